//! Reads text search parsers, templates, dictionaries and configurations (the
//! `queries/ts_*.sql` files) into the model. Reads only.

use anyhow::Result;
use postgres::{Error, Row, Transaction};

use super::each;
use crate::snapshot::model::*;

const PARSERS: &str = include_str!("../queries/ts_parsers.sql");
const TEMPLATES: &str = include_str!("../queries/ts_templates.sql");
const DICTIONARIES: &str = include_str!("../queries/ts_dictionaries.sql");
const CONFIGURATIONS: &str = include_str!("../queries/ts_configurations.sql");

pub(super) fn read(tx: &mut Transaction, kept: &[u32]) -> Result<TextSearchKinds> {
    Ok(TextSearchKinds {
        parsers: each(tx, kept, "text search parsers", PARSERS, parser)?,
        templates: each(tx, kept, "text search templates", TEMPLATES, template)?,
        dictionaries: each(
            tx,
            kept,
            "text search dictionaries",
            DICTIONARIES,
            dictionary,
        )?,
        configurations: each(
            tx,
            kept,
            "text search configurations",
            CONFIGURATIONS,
            configuration,
        )?,
    })
}

fn parser(r: &Row) -> Result<TsParser, Error> {
    Ok(TsParser {
        oid: r.try_get("oid")?,
        schema: r.try_get("schema")?,
        name: r.try_get("name")?,
        start: r.try_get("start")?,
        gettoken: r.try_get("gettoken")?,
        end: r.try_get("end")?,
        headline: r.try_get("headline")?,
        lextypes: r.try_get("lextypes")?,
    })
}

fn template(r: &Row) -> Result<TsTemplate, Error> {
    Ok(TsTemplate {
        oid: r.try_get("oid")?,
        schema: r.try_get("schema")?,
        name: r.try_get("name")?,
        init: r.try_get("init")?,
        lexize: r.try_get("lexize")?,
    })
}

fn dictionary(r: &Row) -> Result<TsDictionary, Error> {
    Ok(TsDictionary {
        oid: r.try_get("oid")?,
        schema: r.try_get("schema")?,
        name: r.try_get("name")?,
        template: (r.try_get("template_schema")?, r.try_get("template")?),
        options: r.try_get("options")?,
    })
}

fn configuration(r: &Row) -> Result<TsConfiguration, Error> {
    let tokens: Vec<String> = r.try_get("tokens")?;
    let dictionaries: Vec<String> = r.try_get("dictionaries")?;
    Ok(TsConfiguration {
        oid: r.try_get("oid")?,
        schema: r.try_get("schema")?,
        name: r.try_get("name")?,
        parser: (r.try_get("parser_schema")?, r.try_get("parser")?),
        mappings: tokens.into_iter().zip(dictionaries).collect(),
    })
}
