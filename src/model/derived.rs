//! What the model works out once from the whole repository (the clusters, the reconcile tree,
//! the dependsOn graph, what each cluster applies) and keeps for the repository's life, in a
//! [`Store`] the [`Repository`](super::index::Repository) owns. The store names none of these
//! types: each module above the index declares its own as [`Derived`] and asks for it from an
//! accessor beside it (`impl Repository { pub fn clusters(&self) -> &[Cluster] }`), so the index
//! stays at the bottom of the model.
//!
//! Rules ask from several threads at once: the first to ask for a kind computes it, the others
//! wait for that one value (`OnceLock`); each kind is computed once per repository.

use std::any::{Any, TypeId};
use std::sync::OnceLock;

/// A kind of data derived from the whole repository and kept in its [`Store`]. Declared once,
/// beside the type (`impl Derived for ReconcileTree {}`): a second declaration of the same type
/// does not compile, so two modules never keep different values under one kind.
pub trait Derived: Any + Send + Sync {}

/// How many kinds the store keeps. One more panics at its first use, so every test that reaches
/// it fails: raise this with it.
const CAPACITY: usize = 8;

/// One value per [`Derived`] type, each computed on first use.
#[derive(Default)]
pub struct Store {
    /// Claimed in order by the kinds as they are first asked for: the claimed slots are a
    /// prefix, so a search that meets a free slot knows its kind has none yet.
    slots: [OnceLock<Slot>; CAPACITY],
}

struct Slot {
    kind: TypeId,
    value: OnceLock<Box<dyn Any + Send + Sync>>,
}

impl Store {
    /// The kept `T`, computed by `init` for the first to ask.
    pub fn get_or_init<T: Derived>(&self, init: impl FnOnce() -> T) -> &T {
        self.slot(TypeId::of::<T>())
            .value
            .get_or_init(|| Box::new(init()))
            .downcast_ref()
            .expect("a slot holds only the kind that claimed it")
    }

    /// The slot of `kind`, claimed now when it has none. Two threads that ask for two new kinds
    /// at once each end with a slot of their own: the one that loses the race for a free slot
    /// finds it claimed by the other kind and goes on to the next.
    fn slot(&self, kind: TypeId) -> &Slot {
        for cell in &self.slots {
            let slot = cell.get_or_init(|| Slot {
                kind,
                value: OnceLock::new(),
            });
            if slot.kind == kind {
                return slot;
            }
        }
        panic!("more kinds of derived data than model::derived::CAPACITY ({CAPACITY})")
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    struct Counted(usize);
    impl Derived for Counted {}
    struct Other(&'static str);
    impl Derived for Other {}

    #[test]
    fn each_kind_is_computed_once_and_kept_apart() {
        let store = Store::default();
        let calls = std::sync::atomic::AtomicUsize::new(0);
        let count = || {
            calls.fetch_add(1, std::sync::atomic::Ordering::Relaxed);
            Counted(7)
        };
        assert_eq!(store.get_or_init(count).0, 7);
        assert_eq!(store.get_or_init(|| Other("b")).0, "b");
        assert_eq!(store.get_or_init(|| Counted(8)).0, 7);
        assert_eq!(store.get_or_init(|| Other("c")).0, "b");
        assert_eq!(calls.load(std::sync::atomic::Ordering::Relaxed), 1);
    }

    #[test]
    fn a_kind_computed_while_another_is_computed() {
        // The reconcile tree asks for the clusters while it is being built.
        let store = Store::default();
        let outer = store.get_or_init(|| {
            Other(if store.get_or_init(|| Counted(1)).0 == 1 {
                "in"
            } else {
                "out"
            })
        });
        assert_eq!(outer.0, "in");
        assert_eq!(store.get_or_init(|| Counted(2)).0, 1);
    }

    #[test]
    fn threads_asking_at_once_share_one_value() {
        let store = Store::default();
        let calls = std::sync::atomic::AtomicUsize::new(0);
        let seen: Vec<usize> = std::thread::scope(|s| {
            let threads: Vec<_> = (0..8)
                .map(|i| {
                    let (store, calls) = (&store, &calls);
                    s.spawn(move || {
                        // Half claim a slot for `Other` first, half for `Counted`: the two
                        // kinds race for the first free slot.
                        if i % 2 == 0 {
                            store.get_or_init(|| Other("x"));
                        }
                        let counted = store.get_or_init(|| {
                            calls.fetch_add(1, std::sync::atomic::Ordering::Relaxed);
                            Counted(i)
                        });
                        assert_eq!(store.get_or_init(|| Other("y")).0.len(), 1);
                        counted.0
                    })
                })
                .collect();
            threads.into_iter().map(|t| t.join().unwrap()).collect()
        });
        assert!(seen.iter().all(|&v| v == seen[0]), "{seen:?}");
        assert_eq!(calls.load(std::sync::atomic::Ordering::Relaxed), 1);
    }

    struct Kind<const N: usize>;
    impl<const N: usize> Derived for Kind<N> {}

    #[test]
    #[should_panic(expected = "CAPACITY")]
    fn one_kind_too_many_is_a_panic_not_a_wrong_value() {
        let store = Store::default();
        store.get_or_init(|| Kind::<0>);
        store.get_or_init(|| Kind::<1>);
        store.get_or_init(|| Kind::<2>);
        store.get_or_init(|| Kind::<3>);
        store.get_or_init(|| Kind::<4>);
        store.get_or_init(|| Kind::<5>);
        store.get_or_init(|| Kind::<6>);
        store.get_or_init(|| Kind::<7>);
        store.get_or_init(|| Kind::<8>);
    }
}
