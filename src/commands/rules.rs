//! `fluxvet rules`: the rule catalogue.

use super::write_out;
use crate::cli::RulesFormat;
use crate::rules;

pub fn run(format: RulesFormat) -> Result<u8, String> {
    let mut out = std::io::stdout().lock();
    let text = match format {
        RulesFormat::Text => rules::catalogue::text(),
        RulesFormat::Markdown => rules::catalogue::markdown(),
        RulesFormat::Json => rules::catalogue::json(),
        RulesFormat::Docs => rules::catalogue::docs_page(),
    };
    write_out(&mut out, text.as_bytes())?;
    Ok(0)
}
