//! Cast blocks (`CREATE CAST`): objects of the whole database, named by the two types they
//! join, written after the functions they call.

use super::{Blocks, Kind};
use crate::snapshot::model::{Catalog, Model};

pub(super) fn casts(model: &Model, blocks: &mut Blocks) {
    for cast in &model.casts {
        let types = format!("({} AS {})", cast.source, cast.target);
        let how = match (cast.method.as_str(), &cast.function) {
            ("f", Some(function)) => format!("WITH FUNCTION {function}"),
            ("i", _) => "WITH INOUT".to_string(),
            _ => "WITHOUT FUNCTION".to_string(),
        };
        let context = match cast.context.as_str() {
            "a" => " AS ASSIGNMENT",
            "i" => " AS IMPLICIT",
            _ => "",
        };
        let body = format!("CREATE CAST {types} {how}{context};\n");
        let sort = ["", &*cast.source, &cast.target];
        let block = blocks.add(Kind::Cast, sort, format!("cast {types}"), body);
        let key = (Catalog::Cast, cast.oid);
        blocks.own(block, key, Some(format!("CAST {types}")), None, None);
    }
}
