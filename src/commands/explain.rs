//! `fluxvet explain RULE`: one rule's documentation.

use super::write_out;
use crate::rules;

pub fn run(rule: &str) -> Result<u8, String> {
    match rules::lookup(rule) {
        Some(meta) => {
            let text = rules::catalogue::explain(meta);
            write_out(&mut std::io::stdout().lock(), text.as_bytes())?;
            Ok(0)
        }
        None => Err(format!(
            "`{rule}` is not a fluxvet rule; `fluxvet rules` lists them"
        )),
    }
}
