// SPDX-License-Identifier: MPL-2.0
//! `aicoach-page`: the session report page from a report and the files the pipeline saved.
//!
//!   aicoach-page --report REPORT.jsonl --video VIDEO_IN_OUT_DIR [--frames DIR] [--title TEXT] OUT_DIR
//!
//! Writes OUT_DIR/index.html and OUT_DIR/thumbs/. Prints one line per exemplar clip the page
//! plays, `exemplar<TAB>SOURCE<TAB>DEST`, for the caller to convert SOURCE into OUT_DIR/DEST
//! (`pipelines/report.sh` does all of it). Notes go to stderr.

use std::path::Path;
use std::process::ExitCode;

use aicoach_tools::page::{self, PageInput};

const USAGE: &str =
    "usage: aicoach-page --report REPORT.jsonl --video VIDEO_IN_OUT_DIR [--frames DIR] [--title TEXT] OUT_DIR";

fn run(args: &[String]) -> Result<(), String> {
    let (mut report, mut video, mut frames, mut title, mut out) = (None, None, None, None, None);
    let mut it = args.iter();
    while let Some(arg) = it.next() {
        let mut value = || it.next().cloned().ok_or_else(|| format!("{arg} needs a value\n{USAGE}"));
        match arg.as_str() {
            "--report" => report = Some(value()?),
            "--video" => video = Some(value()?),
            "--frames" => frames = Some(value()?),
            "--title" => title = Some(value()?),
            a if a.starts_with("--") => return Err(format!("unknown option {a}\n{USAGE}")),
            _ => out = Some(arg.clone()),
        }
    }
    let (Some(report), Some(video), Some(out)) = (report, video, out) else { return Err(USAGE.into()) };
    let title = title.unwrap_or_else(|| video.clone());
    let input = PageInput {
        report: Path::new(&report),
        video: &video,
        frames: frames.as_deref().map(Path::new),
        title: &title,
    };
    let page = page::write(&input, Path::new(&out))?;
    for note in &page.notes {
        eprintln!("aicoach-page: {note}");
    }
    for e in &page.exemplars {
        println!("exemplar\t{}\t{}", e.source.display(), e.dest);
    }
    Ok(())
}

fn main() -> ExitCode {
    let args: Vec<String> = std::env::args().skip(1).collect();
    match run(&args) {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) => {
            eprintln!("aicoach-page: {e}");
            ExitCode::FAILURE
        }
    }
}
