//! The CRDs' CEL rules (`x-kubernetes-validations`), evaluated with the `cel` crate. A rule the
//! crate cannot compile or evaluate (Kubernetes' own CEL libraries such as `isURL` or
//! `quantity`, transition rules on `oldSelf`, a value it cannot represent) is skipped: only a
//! rule that evaluates to `false` is a finding.

use std::collections::HashMap;
use std::sync::Arc;

use cel::objects::{Key, Map};
use cel::{Context, Program, Value};

use super::is_opaque;
use crate::model::rendered::{Node, ScalarType, Value as NodeValue};
use crate::yaml::scalar::{Scalar, resolve_plain};

/// Values bigger than this many nodes are not handed to CEL: the rules that matter are on small
/// objects, and a whole workload copied for one rule would cost more than the check is worth.
const MAX_NODES: usize = 2000;

thread_local! {
    /// CEL's standard library, built once per thread (`Context::default()` builds it anew);
    /// each evaluation adds `self` in a scope of its own.
    static ROOT: Context<'static, 'static> = Context::default();
}

/// Compiled rules, shared by the threads: compiling is most of what a rule costs.
static PROGRAMS: std::sync::LazyLock<std::sync::Mutex<Programs>> =
    std::sync::LazyLock::new(Default::default);

/// Rule text → its compiled program, `None` when the crate cannot compile it.
type Programs = HashMap<Box<str>, Option<Arc<Program>>>;

/// Whether `rule` holds for `node` as `self`; `None` when it cannot be told. `value` keeps the
/// node's CEL form between the rules of one node (`Some(None)`: it has none).
pub fn holds(rule: &str, node: &Node, value: &mut Option<Option<Value>>) -> Option<bool> {
    if rule.contains("oldSelf") {
        return None;
    }
    let program = {
        let mut programs = PROGRAMS.lock().unwrap_or_else(|e| e.into_inner());
        programs
            .entry(rule.into())
            .or_insert_with(|| {
                // Never let a schema's rule stop the run, should the parser panic on it.
                std::panic::catch_unwind(|| Program::compile(rule).ok())
                    .ok()
                    .flatten()
                    .map(Arc::new)
            })
            .clone()
    }?;
    let value = value
        .get_or_insert_with(|| {
            let mut budget = MAX_NODES;
            to_value(node, &mut budget, 0)
        })
        .clone()?;
    let result = ROOT.with(|root| {
        let mut cx = root.new_inner_scope();
        cx.add_variable_from_value("self", value);
        std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| program.execute(&cx)))
    });
    match result {
        Ok(Ok(Value::Bool(b))) => Some(b),
        _ => None,
    }
}

fn to_value(n: &Node, budget: &mut usize, depth: usize) -> Option<Value> {
    if *budget == 0 || depth > 64 {
        return None;
    }
    *budget -= 1;
    Some(match &n.value {
        NodeValue::Map(entries) => {
            let mut m = HashMap::new();
            for (k, v) in entries {
                if is_opaque(k) {
                    return None;
                }
                // A null field is dropped by the API server before validation.
                if v.is_null() {
                    continue;
                }
                m.insert(
                    Key::String(Arc::new(k.to_string())),
                    to_value(v, budget, depth + 1)?,
                );
            }
            Value::Map(Map { map: Arc::new(m) })
        }
        NodeValue::Seq(items) => Value::List(Arc::new(
            items
                .iter()
                .map(|i| to_value(i, budget, depth + 1))
                .collect::<Option<Vec<_>>>()?,
        )),
        NodeValue::Scalar(text, ty) => {
            if is_opaque(text) {
                return None;
            }
            let sc = match ty {
                ScalarType::Str => Scalar::Str(text),
                ScalarType::Null => Scalar::Null,
                _ => resolve_plain(text),
            };
            match sc {
                Scalar::Null => Value::Null,
                Scalar::Bool(b) => Value::Bool(b),
                Scalar::Int(i) => Value::Int(i),
                Scalar::Float(f) => Value::Float(f),
                Scalar::Str(s) => Value::String(Arc::new(s.to_string())),
                Scalar::Other => return None,
            }
        }
    })
}
