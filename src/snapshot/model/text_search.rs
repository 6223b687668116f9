//! The model of text search parsers, templates, dictionaries and configurations: what the
//! `queries/ts_*.sql` files read. Functions by name alone, as the server prints them with
//! the empty search path (qualified where not in pg_catalog).

/// Every text search object, as read.
#[derive(Debug, Default)]
pub(crate) struct TextSearchKinds {
    pub parsers: Vec<TsParser>,
    pub templates: Vec<TsTemplate>,
    pub dictionaries: Vec<TsDictionary>,
    pub configurations: Vec<TsConfiguration>,
}

/// `CREATE TEXT SEARCH PARSER`.
#[derive(Debug)]
pub(crate) struct TsParser {
    pub oid: u32,
    pub schema: String,
    pub name: String,
    pub start: String,
    pub gettoken: String,
    pub end: String,
    pub headline: Option<String>,
    pub lextypes: String,
}

/// `CREATE TEXT SEARCH TEMPLATE`.
#[derive(Debug)]
pub(crate) struct TsTemplate {
    pub oid: u32,
    pub schema: String,
    pub name: String,
    pub init: Option<String>,
    pub lexize: String,
}

/// `CREATE TEXT SEARCH DICTIONARY`.
#[derive(Debug)]
pub(crate) struct TsDictionary {
    pub oid: u32,
    pub schema: String,
    pub name: String,
    /// (schema, name), raw.
    pub template: (String, String),
    /// `dictinitoption` as the server stored it: `name = 'value', ...`, in the order set.
    pub options: Option<String>,
}

/// `CREATE TEXT SEARCH CONFIGURATION` and its mappings.
#[derive(Debug)]
pub(crate) struct TsConfiguration {
    pub oid: u32,
    pub schema: String,
    pub name: String,
    /// (schema, name), raw.
    pub parser: (String, String),
    /// (token type alias, dictionaries in the order they are tried, printed by the server),
    /// sorted by token type.
    pub mappings: Vec<(String, String)>,
}
