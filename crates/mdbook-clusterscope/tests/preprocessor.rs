//! The preprocessor as mdBook runs it (the book as JSON on standard input,
//! mdBook's own types), and its expansion of blocks: issue "Embedding where
//! documentation is written" asks that a block become the element and that
//! a malformed block fail the build naming the chapter and line.

use mdbook_clusterscope::expand;
use mdbook_preprocessor::book::{Book, BookItem, Chapter};
use mdbook_preprocessor::config::Config;
use mdbook_preprocessor::PreprocessorContext;
use std::io::Write;
use std::process::{Command, Stdio};

const CHAPTER: &str = "# Elections\n\nA leader crashes:\n\n```clusterscope lab=raft controls=compact view=both\nseed 7\n\nat 2s crash S1\n```\n\nThen a new one leads.\n";

#[test]
fn a_block_becomes_the_element_after_the_script() {
    let out = expand(CHAPTER, "elections.md", "../clusterscope/").expect("a good block");
    let expected = "<script src=\"../clusterscope/clusterscope.js\" defer></script>\n\
        <cluster-scope controls=\"compact\" view=\"both\">\nlab raft\nseed 7\nat 2s crash S1\n</cluster-scope>\n";
    assert!(out.contains(expected), "{out}");
    assert!(out.starts_with("# Elections\n\nA leader crashes:\n\n"), "the prose is kept");
    assert!(out.ends_with("\nThen a new one leads.\n"), "{out}");
    assert!(!out.contains("```"), "the fence is gone");
    // Two blocks, one script.
    let twice = expand(&format!("{CHAPTER}{CHAPTER}"), "e.md", "clusterscope/").expect("good blocks");
    assert_eq!(twice.matches("<script").count(), 1);
    assert_eq!(twice.matches("<cluster-scope").count(), 2);
    // Other code blocks are left alone.
    let other = "```rust\nfn main() {}\n```\n";
    assert_eq!(expand(other, "e.md", "x/").expect("no labs"), other);
}

#[test]
fn a_malformed_block_names_the_chapter_file_and_its_line() {
    // The out-of-range line is the file's line 8 (the block opens on 5;
    // the block's `lab` option adds a line the author did not write).
    let bad = CHAPTER.replace("at 2s crash S1", "nodes 0");
    let err = expand(&bad, "src/elections.md", "clusterscope/").expect_err("nodes 0 is out of range");
    assert!(err.starts_with("src/elections.md:8: nodes = 0 is out of range"), "{err}");
    let unclosed = "```clusterscope lab=raft\nseed 1\n";
    let err = expand(unclosed, "a.md", "x/").expect_err("never closed");
    assert_eq!(err, "a.md:1: the ```clusterscope block opened here is never closed");
    let option = "```clusterscope colour=red\nlab raft\n```\n";
    assert!(expand(option, "a.md", "x/").expect_err("unknown option").starts_with("a.md:1: 'colour' is not an option"));
}

fn run(book: &Book) -> (i32, String, String) {
    let ctx = PreprocessorContext::new(std::env::temp_dir(), Config::default(), "html".into());
    let input = serde_json::to_string(&(ctx, book)).expect("serialises");
    let mut child = Command::new(env!("CARGO_BIN_EXE_mdbook-clusterscope"))
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .expect("runs");
    child.stdin.take().expect("stdin").write_all(input.as_bytes()).expect("writes");
    let out = child.wait_with_output().expect("finishes");
    (
        out.status.code().unwrap_or(-1),
        String::from_utf8_lossy(&out.stdout).into(),
        String::from_utf8_lossy(&out.stderr).into(),
    )
}

#[test]
fn mdbook_s_protocol_in_and_out() {
    let mut book = Book::new();
    book.push_item(Chapter::new("Elections", CHAPTER.to_string(), "story/elections.md", vec![]));
    let (code, out, err) = run(&book);
    assert_eq!(code, 0, "{err}");
    let back: Book = serde_json::from_str(&out).expect("a book comes back");
    let BookItem::Chapter(ch) = &back.items[0] else { panic!("a chapter") };
    assert!(
        ch.content.contains("<script src=\"../clusterscope/clusterscope.js\" defer></script>"),
        "one folder deep: {}",
        ch.content
    );
    let mut bad = Book::new();
    bad.push_item(Chapter::new("Elections", CHAPTER.replace("seed 7", "seed x"), "story/elections.md", vec![]));
    let (code, _, err) = run(&bad);
    assert_eq!(code, 1, "the build fails");
    assert!(err.contains("story/elections.md:6:"), "chapter and line: {err}");
    let supports = |r: &str| {
        Command::new(env!("CARGO_BIN_EXE_mdbook-clusterscope")).args(["supports", r]).status().expect("runs").code()
    };
    assert_eq!(supports("html"), Some(0));
    assert_eq!(supports("pdf"), Some(1));
}
