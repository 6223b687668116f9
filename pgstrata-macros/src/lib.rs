//! `embed_migrations!`, re-exported as `pgstrata::embed_migrations!`: see its documentation
//! there. This crate only lists the files and writes the `include_bytes!` that put them in
//! the program; it judges nothing. Names, pairs and contents are validated when the program
//! loads the project (`pgstrata::Migrations::embedded`), by the code that validates a project
//! on disk, so both refuse the same projects with the same messages.
//!
//! No dependencies: the input is one optional string literal, and the output is small enough
//! to write as text.

use std::fs;
use std::path::{Path, PathBuf};

use proc_macro::{Literal, TokenStream, TokenTree};

/// The folders of a project that are embedded, as pgstrata reads them.
const FOLDERS: [&str; 3] = ["migrations", "rollbacks", "views"];

/// Embeds the project at a path relative to the crate's `Cargo.toml` (default `"."`): every
/// file of its `migrations/`, `rollbacks/` and `views/` folders, and its `pgstrata.toml`, as a
/// `pgstrata::Embedded`.
#[proc_macro]
pub fn embed_migrations(input: TokenStream) -> TokenStream {
    match expand(input) {
        Ok(code) => code.parse().expect("the generated code parses"),
        Err(message) => format!("::core::compile_error!({})", Literal::string(&message))
            .parse()
            .expect("compile_error! parses"),
    }
}

fn expand(input: TokenStream) -> Result<String, String> {
    let relative = path_argument(input)?;
    let manifest_dir = std::env::var("CARGO_MANIFEST_DIR")
        .map_err(|_| "embed_migrations! needs CARGO_MANIFEST_DIR; build with cargo".to_string())?;
    let root = Path::new(&manifest_dir).join(&relative);
    if !root.join("migrations").is_dir() {
        return Err(format!(
            "embed_migrations!: no migrations/ folder in {} (the path is relative to the \
             folder of the crate's Cargo.toml)",
            root.display()
        ));
    }
    let root_text = path_text(&root)?;
    let mut folders = Vec::new();
    let mut entries = Vec::new();
    for folder in FOLDERS {
        let dir = root.join(folder);
        if !dir.is_dir() {
            continue;
        }
        folders.push(Literal::string(folder).to_string());
        for (name, path) in listing(&dir)? {
            let relative = Literal::string(&format!("{folder}/{name}")).to_string();
            let meta = fs::metadata(&path).map_err(|err| format!("{}: {err}", path.display()))?;
            let entry = if meta.is_dir() {
                format!("::pgstrata::embedded::Entry::Folder({relative})")
            } else if !name.ends_with(".sql") {
                // Only its name matters: a near miss (`V3__x.SQL`) is refused by name.
                format!("::pgstrata::embedded::Entry::Other({relative})")
            } else if meta.is_file() {
                // include_bytes!, not include_str!: a file that is not UTF-8 is refused by the
                // loader with the message a file on disk gets. Each include makes the build
                // depend on the file, so editing a migration rebuilds the program.
                let file = Literal::string(&path_text(&path)?).to_string();
                format!(
                    "::pgstrata::embedded::Entry::File({relative}, ::core::include_bytes!({file}))"
                )
            } else {
                return Err(format!(
                    "embed_migrations!: {} is not a regular file",
                    path.display()
                ));
            };
            entries.push(entry);
        }
    }
    // The settings file, for the history schema and limits the command would use.
    let settings = root.join("pgstrata.toml");
    if settings.is_file() {
        let file = Literal::string(&path_text(&settings)?).to_string();
        entries.push(format!(
            "::pgstrata::embedded::Entry::File(\"pgstrata.toml\", ::core::include_bytes!({file}))"
        ));
    }
    Ok(format!(
        "::pgstrata::Embedded::__new({root}, &[{folders}], &[{entries}])",
        root = Literal::string(&root_text),
        folders = folders.join(", "),
        entries = entries.join(", "),
    ))
}

/// The one optional string literal.
fn path_argument(input: TokenStream) -> Result<String, String> {
    let tokens: Vec<TokenTree> = input.into_iter().collect();
    let usage = "embed_migrations! takes one string literal: the project folder, relative to \
                 Cargo.toml (e.g. embed_migrations!(\".\"))";
    match tokens.as_slice() {
        [] => Ok(".".to_string()),
        [TokenTree::Literal(literal)] => {
            let text = literal.to_string();
            // A plain "..." literal; raw and escaped forms are not worth a parser here.
            text.strip_prefix('"')
                .and_then(|t| t.strip_suffix('"'))
                .filter(|t| !t.contains('\\') && !t.contains('"'))
                .map(str::to_string)
                .ok_or_else(|| usage.to_string())
        }
        _ => Err(usage.to_string()),
    }
}

/// The entries of a folder, sorted by name.
fn listing(dir: &Path) -> Result<Vec<(String, PathBuf)>, String> {
    let read = fs::read_dir(dir).map_err(|err| format!("reading {}: {err}", dir.display()))?;
    let mut found = Vec::new();
    for entry in read {
        let entry = entry.map_err(|err| format!("reading {}: {err}", dir.display()))?;
        let name = entry
            .file_name()
            .into_string()
            .map_err(|name| format!("{}: the name is not UTF-8", dir.join(name).display()))?;
        found.push((name, entry.path()));
    }
    found.sort();
    Ok(found)
}

fn path_text(path: &Path) -> Result<String, String> {
    path.to_str()
        .map(str::to_string)
        .ok_or_else(|| format!("{}: the path is not UTF-8", path.display()))
}
