use std::ffi::{CStr, CString, c_char, c_int};
#[repr(C)]
struct PgQueryError {
    message: *mut c_char,
    funcname: *mut c_char,
    filename: *mut c_char,
    lineno: c_int,
    cursorpos: c_int,
    context: *mut c_char,
}
#[repr(C)]
struct PgQuerySplitResult {
    stmts: *mut *mut [c_int; 2],
    n_stmts: c_int,
    stderr_buffer: *mut c_char,
    error: *mut PgQueryError,
}
unsafe extern "C" {
    fn pg_query_split_with_parser(input: *const c_char) -> PgQuerySplitResult;
    fn pg_query_free_split_result(r: PgQuerySplitResult);
}
fn pos(s: &str) {
    let c = CString::new(s).unwrap();
    unsafe {
        let r = pg_query_split_with_parser(c.as_ptr());
        if !r.error.is_null() {
            let e = &*r.error;
            println!(
                "{:?} cursorpos={} -> {:?}",
                CStr::from_ptr(e.message),
                e.cursorpos,
                s.chars()
                    .skip((e.cursorpos.max(1) - 1) as usize)
                    .take(12)
                    .collect::<String>()
            );
        } else {
            println!("ok {}", r.n_stmts);
        }
        pg_query_free_split_result(r);
    }
}
fn main() {
    let _ = pg_query::parse("SELECT 1", 0);
    pos("SELECT 'é';\nSELECT 1 +;");
    pos("SELECT 1; /* the archive/* reports */ SELECT 2");
    pos("SELECT 1;\n\\set x 1\nSELECT 1");
    pos("SELECT 'é', 'unterminated");
    pos("SELECT $$abc");
    pos("SELECT \"abc");
    pos("SELECT a a a FROM t");
    pos("SELECT E'\\'");
}
