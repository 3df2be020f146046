// SPDX-License-Identifier: MPL-2.0
//! The session report page, end to end: `pipelines/report.sh` on a real video (Debian's
//! opencv-doc pedestrian clip), with an exemplar library, then the page opened from disk in
//! headless Chromium, driven over the DevTools protocol: the video loads, the timeline,
//! thumbnails and plots are there, and clicking a thumbnail seeks the video to its frame.
//! A screenshot of the page is kept in the target directory's `tmp/` as the test's artifact.
//!
//! Needs what `pipelines/setup.sh` installs and builds: GStreamer, Debian's `chromium` and
//! `opencv-doc`, and the plugin's debug library (`cargo build -p gst-plugin-aicoach`).

use std::io::{BufRead, BufReader, Read, Write};
use std::net::TcpStream;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::time::Duration;

use aicoach_coach::exemplar::{ExemplarClip, Library};
use aicoach_coach::report;
use serde_json::{Value, json};

const VIDEO: &str = "/usr/share/doc/opencv-doc/examples/data/vtest.avi";
const CHROMIUM: &str = "/usr/bin/chromium";

fn repo() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("../..").canonicalize().unwrap()
}

/// Where cargo put this build's binaries, and the plugin's library beside them.
fn build_dir() -> PathBuf {
    let dir = Path::new(env!("CARGO_BIN_EXE_aicoach-page")).parent().unwrap().to_path_buf();
    assert!(
        dir.join("libgstaicoach.so").is_file(),
        "{} has no libgstaicoach.so: run `cargo build -p gst-plugin-aicoach` first (pipelines/setup.sh --test does)",
        dir.display()
    );
    dir
}

fn work_dir(name: &str) -> PathBuf {
    let dir = Path::new(env!("CARGO_TARGET_TMPDIR")).join(format!("page-{name}"));
    let _ = std::fs::remove_dir_all(&dir);
    std::fs::create_dir_all(&dir).unwrap();
    dir
}

fn gst_launch(args: &str) {
    let status = Command::new("sh").arg("-c").arg(format!("gst-launch-1.0 -q {args}")).status().unwrap();
    assert!(status.success(), "gst-launch-1.0 {args}");
}

/// `pipelines/report.sh VIDEO OUT` with this build's plugin and page maker.
fn report_sh(video: &Path, out: &Path, exemplars: Option<&Path>) {
    let mut command = Command::new("bash");
    command
        .arg(repo().join("pipelines/report.sh"))
        .arg(video)
        .arg(out)
        .env("AICOACH_PLUGIN_DIR", build_dir())
        .env("AICOACH_PAGE", env!("CARGO_BIN_EXE_aicoach-page"));
    if let Some(library) = exemplars {
        command.env("EXEMPLARS", library);
    }
    let output = command.output().unwrap();
    assert!(
        output.status.success(),
        "report.sh failed:\n{}\n{}",
        String::from_utf8_lossy(&output.stdout),
        String::from_utf8_lossy(&output.stderr)
    );
}

/// Headless Chromium with its DevTools endpoint on a free port; killed when dropped.
struct Browser {
    child: Child,
    port: u16,
}

impl Browser {
    fn open(url: &str, profile: &Path) -> Self {
        assert!(Path::new(CHROMIUM).is_file(), "{CHROMIUM} is missing: install Debian's chromium (the setup does)");
        let mut child = Command::new(CHROMIUM)
            .args([
                "--headless",
                "--no-sandbox",
                "--disable-gpu",
                "--allow-file-access-from-files",
                "--autoplay-policy=no-user-gesture-required",
                "--remote-debugging-port=0",
                "--window-size=1280,1000",
            ])
            .arg(format!("--user-data-dir={}", profile.display()))
            .arg(url)
            .stdout(Stdio::null())
            .stderr(Stdio::piped())
            .spawn()
            .unwrap();
        // Chromium names its port on stderr: "DevTools listening on ws://127.0.0.1:PORT/...".
        let mut lines = BufReader::new(child.stderr.take().unwrap()).lines();
        let mut port = None;
        let mut seen = Vec::new();
        for line in lines.by_ref() {
            let line = line.unwrap();
            if let Some(rest) = line.split("ws://127.0.0.1:").nth(1) {
                port = rest.split('/').next().and_then(|p| p.parse().ok());
                break;
            }
            seen.push(line);
        }
        // Keep reading what it logs: a closed pipe would kill it at its next message.
        std::thread::spawn(move || lines.for_each(drop));
        let port = port.unwrap_or_else(|| panic!("chromium did not start its DevTools endpoint:\n{}", seen.join("\n")));
        Self { child, port }
    }

    /// The DevTools WebSocket of the tab showing a URL that ends with `suffix`.
    fn tab(&self, suffix: &str) -> String {
        for _ in 0..50 {
            let body = http_get(self.port, "/json/list");
            let tabs: Value = serde_json::from_str(&body).unwrap_or(json!([]));
            let found = tabs.as_array().and_then(|tabs| {
                tabs.iter().find(|t| t["url"].as_str().is_some_and(|u| u.ends_with(suffix)))?["webSocketDebuggerUrl"]
                    .as_str()
                    .map(str::to_string)
            });
            if let Some(url) = found {
                return url;
            }
            std::thread::sleep(Duration::from_millis(100));
        }
        panic!("no tab shows {suffix} on port {}", self.port);
    }
}

/// The body of a plain HTTP/1.1 GET on localhost (what the DevTools endpoint lists tabs on).
fn http_get(port: u16, path: &str) -> String {
    let mut stream = TcpStream::connect(("127.0.0.1", port)).unwrap();
    stream.set_read_timeout(Some(Duration::from_secs(10))).unwrap();
    write!(stream, "GET {path} HTTP/1.1\r\nHost: 127.0.0.1:{port}\r\n\r\n").unwrap();
    let mut reader = BufReader::new(stream);
    let mut length = 0;
    loop {
        let mut line = String::new();
        reader.read_line(&mut line).unwrap();
        let line = line.trim_end();
        if line.is_empty() {
            break;
        }
        if let Some((name, value)) = line.split_once(':')
            && name.eq_ignore_ascii_case("content-length")
        {
            length = value.trim().parse().unwrap();
        }
    }
    let mut body = vec![0; length];
    reader.read_exact(&mut body).unwrap();
    String::from_utf8(body).unwrap()
}

impl Drop for Browser {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

/// Evaluates `expression` in the tab, awaiting it if it is a promise, and returns its value.
/// The tab is listed before its document commits, which destroys a context evaluated in too
/// early: that one answer is retried.
fn evaluate(tab: &str, expression: &str) -> Value {
    let (mut socket, _) = tungstenite::connect(tab).unwrap();
    // The check bounds its own waits; this bounds a page that never answers.
    if let tungstenite::stream::MaybeTlsStream::Plain(stream) = socket.get_ref() {
        stream.set_read_timeout(Some(Duration::from_secs(120))).unwrap();
    }
    for id in 1..=20 {
        let request = json!({"id": id, "method": "Runtime.evaluate",
                             "params": {"expression": expression, "awaitPromise": true, "returnByValue": true}});
        socket.send(tungstenite::Message::text(request.to_string())).unwrap();
        let reply = loop {
            let message = socket.read().unwrap();
            let Ok(text) = message.to_text() else { continue };
            let reply: Value = serde_json::from_str(text).unwrap();
            if reply["id"] == id {
                break reply;
            }
        };
        if reply["error"]["message"] == "Execution context was destroyed." {
            std::thread::sleep(Duration::from_millis(200));
            continue;
        }
        assert!(reply["error"].is_null() && reply["result"]["exceptionDetails"].is_null(), "{reply}");
        return reply["result"]["result"]["value"].clone();
    }
    panic!("the tab kept reloading");
}

fn screenshot(page: &Path, png: &Path) {
    let status = Command::new(CHROMIUM)
        .args(["--headless", "--no-sandbox", "--disable-gpu", "--hide-scrollbars", "--window-size=1280,2400"])
        .arg(format!("--screenshot={}", png.display()))
        .arg(format!("file://{}", page.display()))
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .status()
        .unwrap();
    assert!(status.success() && png.is_file(), "no screenshot of {}", page.display());
}

#[test]
fn a_real_video_becomes_a_page_whose_thumbnails_seek_the_video() {
    assert!(Path::new(VIDEO).is_file(), "{VIDEO} is missing: install Debian's opencv-doc (the setup does)");
    let dir = work_dir("vtest");
    // The first 20 s of the pedestrian video, so the test stays quick; MJPEG keeps it exact.
    // The cut is made in the demuxer's thread, before decoding: after decodebin's queue, frames
    // already queued slipped past `identity` on a busy machine (CI once got a 59 s clip).
    let clip = dir.join("walk.avi");
    gst_launch(&format!(
        "filesrc location={VIDEO} ! avidemux ! identity eos-after=200 ! decodebin ! videoconvert ! jpegenc ! avimux ! \
         filesink location={}",
        clip.display()
    ));

    // An exemplar library from a first analysis of the same clip: every error gets a clip.
    let first = dir.join("first");
    report_sh(&clip, &first, None);
    let (sport, frames) = report::read_frames(&first.join("report.jsonl")).unwrap();
    let library = dir.join("library");
    Library { sport, clips: vec![ExemplarClip { name: "walk".into(), video: clip.display().to_string(), frames }] }
        .save(&library)
        .unwrap();

    let out = dir.join("page");
    report_sh(&clip, &out, Some(&library));
    for file in ["index.html", "annotated.mp4", "report.jsonl"] {
        assert!(out.join(file).is_file(), "{file} is missing");
    }
    assert!(!out.join(".frames").exists(), "the per-frame JPEGs are cleaned up");
    std::fs::copy(Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/page_check.html"), out.join("check.html")).unwrap();

    let browser = Browser::open(&format!("file://{}", out.join("check.html").display()), &dir.join("chromium"));
    // The tab may still be parsing the driver when it is first listed: wait for its promise.
    let found = evaluate(
        &browser.tab("check.html"),
        "new Promise((r) => { const wait = () => window.checkDone ? r(window.checkDone) : setTimeout(wait, 50); wait(); })",
    );
    println!("page check: {found}");
    assert_eq!(found["exception"], Value::Null, "{found}");
    assert_eq!(found["video_loaded"], true, "the annotated video plays: {found}");
    assert_eq!(found["video_width"], 768, "{found}");
    let duration = found["video_duration"].as_f64().unwrap();
    assert!((19.0..=20.5).contains(&duration), "200 frames at 10 fps: {duration} s");
    let segments = found["timeline_segments"].as_u64().unwrap();
    assert!(segments > 0, "the aerials profile flags a walker's knees: {found}");
    assert_eq!(found["timeline_lanes"], 3, "one lane per error of the profile");
    assert_eq!(found["thumbnails"], segments, "a thumbnail per segment");
    assert_eq!(found["thumbnails_with_image"], segments, "each shows its frame");
    assert!(found["plots"].as_u64().unwrap() >= 3 && found["plot_lines"].as_u64().unwrap() >= 3, "{found}");
    assert_eq!(found["thresholds"], 3, "each rule's threshold is drawn");
    assert_eq!(found["no_athlete_banner"], false);
    let players = found["exemplar_players"].as_u64().unwrap();
    assert!(players >= 1 && found["exemplars_loaded"] == players, "exemplar clips play: {found}");
    assert_eq!(found["seeked"], true, "clicking a thumbnail seeks: {found}");
    let (clicked, now) = (found["clicked_time"].as_f64().unwrap(), found["video_time_after_click"].as_f64().unwrap());
    assert!(clicked > 0.0 && (clicked - now).abs() < 0.06, "clicked {clicked} s, video at {now} s");
    assert!(!found["verdict_after_click"].as_str().unwrap().is_empty(), "the frame's verdict shows");
    drop(browser);

    let png = Path::new(env!("CARGO_TARGET_TMPDIR")).join("report-page.png");
    screenshot(&out.join("index.html"), &png);
    println!("screenshot: {}", png.display());
}

#[test]
fn a_video_without_anyone_gets_a_page_that_says_so() {
    let dir = work_dir("empty");
    let clip = dir.join("empty.avi");
    gst_launch(&format!(
        "videotestsrc num-buffers=20 pattern=smpte ! video/x-raw,width=320,height=240,framerate=10/1 ! jpegenc ! avimux ! filesink location={}",
        clip.display()
    ));
    let out = dir.join("page");
    report_sh(&clip, &out, None);
    let html = std::fs::read_to_string(out.join("index.html")).unwrap();
    assert!(html.contains(r#"id="no-athlete""#), "the page says no athlete was found");
    assert!(html.contains("No bad pose was flagged"));
    assert!(out.join("annotated.mp4").is_file());
}
