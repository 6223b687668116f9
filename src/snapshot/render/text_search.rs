//! Blocks for text search parsers, templates, dictionaries (`CREATE TEXT SEARCH ...`) and
//! configurations (`CREATE TEXT SEARCH CONFIGURATION ... (PARSER = ...)`, then one `ALTER
//! TEXT SEARCH CONFIGURATION ... ADD MAPPING` per token type). A dictionary's options and a
//! configuration's token types are sorted by bytes: the server keeps them in the order they
//! were set, which is history, not schema.

use super::objects::list;
use super::{Blocks, Kind};
use crate::db::quote_ident;
use crate::snapshot::model::{Catalog, Model};
use crate::snapshot::sql::{display_qualified, qualified};

/// Adds one text search block; `word` is `PARSER`, `TEMPLATE`, ...
fn add(
    blocks: &mut Blocks,
    kind: Kind,
    word: &str,
    (schema, name): (&str, &str),
    key: (Catalog, u32),
    body: String,
) {
    let label = format!(
        "text search {} {}",
        word.to_lowercase(),
        display_qualified(schema, name)
    );
    let block = blocks.add(kind, [schema, name, ""], label, body);
    let comment_on = format!("TEXT SEARCH {word} {}", qualified(schema, name));
    blocks.own(block, key, Some(comment_on), None, None);
}

pub(super) fn text_search(model: &Model, blocks: &mut Blocks) {
    let ts = &model.text_search;
    for parser in &ts.parsers {
        let mut options = vec![
            format!("START = {}", parser.start),
            format!("GETTOKEN = {}", parser.gettoken),
            format!("END = {}", parser.end),
            format!("LEXTYPES = {}", parser.lextypes),
        ];
        if let Some(headline) = &parser.headline {
            options.push(format!("HEADLINE = {headline}"));
        }
        let name = qualified(&parser.schema, &parser.name);
        let body = format!("CREATE TEXT SEARCH PARSER {name} ({});\n", list(&options));
        let key = (Catalog::TsParser, parser.oid);
        let names = (&*parser.schema, &*parser.name);
        add(blocks, Kind::TsParser, "PARSER", names, key, body);
    }
    for template in &ts.templates {
        let mut options = Vec::new();
        if let Some(init) = &template.init {
            options.push(format!("INIT = {init}"));
        }
        options.push(format!("LEXIZE = {}", template.lexize));
        let name = qualified(&template.schema, &template.name);
        let body = format!("CREATE TEXT SEARCH TEMPLATE {name} ({});\n", list(&options));
        let key = (Catalog::TsTemplate, template.oid);
        let names = (&*template.schema, &*template.name);
        add(blocks, Kind::TsTemplate, "TEMPLATE", names, key, body);
    }
    for dictionary in &ts.dictionaries {
        let (schema, template) = &dictionary.template;
        let mut options = vec![format!("TEMPLATE = {}", qualified(schema, template))];
        let mut set = split_options(dictionary.options.as_deref().unwrap_or_default());
        set.sort();
        options.extend(set);
        let name = qualified(&dictionary.schema, &dictionary.name);
        let body = format!(
            "CREATE TEXT SEARCH DICTIONARY {name} ({});\n",
            list(&options)
        );
        let key = (Catalog::TsDict, dictionary.oid);
        let names = (&*dictionary.schema, &*dictionary.name);
        add(blocks, Kind::TsDictionary, "DICTIONARY", names, key, body);
    }
    for configuration in &ts.configurations {
        let name = qualified(&configuration.schema, &configuration.name);
        let (schema, parser) = &configuration.parser;
        let mut body = format!(
            "CREATE TEXT SEARCH CONFIGURATION {name} (PARSER = {});\n",
            qualified(schema, parser)
        );
        let mut mappings: Vec<&(String, String)> = configuration.mappings.iter().collect();
        mappings.sort();
        for (token, dictionaries) in mappings {
            body.push_str(&format!(
                "ALTER TEXT SEARCH CONFIGURATION {name} ADD MAPPING FOR {} WITH {dictionaries};\n",
                quote_ident(token)
            ));
        }
        let key = (Catalog::TsConfig, configuration.oid);
        let names = (&*configuration.schema, &*configuration.name);
        add(
            blocks,
            Kind::TsConfiguration,
            "CONFIGURATION",
            names,
            key,
            body,
        );
    }
}

/// A dictionary's options as the server stores them (`stopwords = 'english', accept =
/// 'false'`) split into one `name = value` each; a comma inside a quoted value stays.
fn split_options(stored: &str) -> Vec<String> {
    let mut out = Vec::new();
    let mut current = String::new();
    let mut quoted = false;
    for c in stored.chars() {
        match c {
            // A doubled quote inside a value toggles twice: still inside.
            '\'' => quoted = !quoted,
            ',' if !quoted => {
                out.push(current.trim().to_string());
                current.clear();
                continue;
            }
            _ => {}
        }
        current.push(c);
    }
    if !current.trim().is_empty() {
        out.push(current.trim().to_string());
    }
    out
}

#[cfg(test)]
mod tests {
    use super::split_options;

    #[test]
    fn dictionary_options_split_outside_quotes_only() {
        assert_eq!(
            split_options("stopwords = 'english', accept = 'false'"),
            ["stopwords = 'english'", "accept = 'false'"]
        );
        assert_eq!(
            split_options("dictfile = 'a, b''s', \"Odd\" = 'x'"),
            ["dictfile = 'a, b''s'", "\"Odd\" = 'x'"]
        );
        assert!(split_options("").is_empty());
    }
}
