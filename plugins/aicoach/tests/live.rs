// SPDX-License-Identifier: MPL-2.0
//! The chain in a live graph never makes the sink drop a frame: each element reports its
//! processing time as latency, so the sink waits for it, and sheds analysis (never video) when
//! frames come late. A test binary of its own, so no other test competes for the cores while
//! it measures.

use gst::prelude::*;

mod common;
use common::{PHOTO, init};

/// The tests here take turns: run side by side (as cargo runs one binary's tests) they compete
/// for the cores, and a frame came late once in six runs on two.
static ONE_AT_A_TIME: std::sync::Mutex<()> = std::sync::Mutex::new(());

/// Waits for the other tests here to finish (one that panicked leaves the lock poisoned: still
/// free to take).
fn alone() -> std::sync::MutexGuard<'static, ()> {
    ONE_AT_A_TIME.lock().unwrap_or_else(|poisoned| poisoned.into_inner())
}

#[test]
fn a_live_chain_renders_every_frame_on_time() {
    let _alone = alone();
    init();
    // The player as a live camera at 25 fps; a sink that drops frames more than 20 ms late,
    // as a display does.
    let frames = 75;
    let pipeline = gst::parse::launch(&format!(
        "filesrc location={PHOTO} ! jpegdec ! videoconvert ! videoscale ! \
         video/x-raw,format=I420,width=320,height=200,pixel-aspect-ratio=1/1 ! \
         imagefreeze is-live=true num-buffers={frames} ! video/x-raw,framerate=25/1 ! \
         videoconvert ! queue max-size-buffers=3 max-size-bytes=0 max-size-time=0 ! \
         aicoachdetect ! aicoachtrack ! aicoachpose ! aicoachclassify ! aicoachoverlay ! \
         fakesink name=sink sync=true qos=true max-lateness=20000000"
    ))
    .unwrap()
    .downcast::<gst::Pipeline>()
    .unwrap();
    let sink = pipeline.by_name("sink").unwrap();
    pipeline.set_state(gst::State::Playing).unwrap();
    let bus = pipeline.bus().unwrap();
    // As gst-launch-1.0 and players do: when an element's latency grows (its processing took
    // longer than it said, e.g. on a busy machine), the pipeline takes the new figure.
    let msg = loop {
        let msg = bus.timed_pop_filtered(
            gst::ClockTime::from_seconds(60),
            &[gst::MessageType::Eos, gst::MessageType::Error, gst::MessageType::Latency],
        );
        match msg.as_ref().map(|m| m.view()) {
            Some(gst::MessageView::Latency(_)) => {
                let _ = pipeline.recalculate_latency();
            }
            _ => break msg,
        }
    };
    // What the sink waits for: the pipeline's latency query (the configured `latency` stays
    // unset without an application that handles latency messages).
    let mut query = gst::query::Latency::new();
    let latency = pipeline.query(&mut query).then(|| query.result().1);
    let stats = sink.property::<gst::Structure>("stats");
    pipeline.set_state(gst::State::Null).unwrap();
    assert!(matches!(msg.as_ref().map(|m| m.view()), Some(gst::MessageView::Eos(_))), "{msg:?}");
    let (rendered, dropped) = (stats.get::<u64>("rendered").unwrap(), stats.get::<u64>("dropped").unwrap());
    assert_eq!((rendered, dropped), (frames, 0), "reported latency {latency:?}");
    // The latency includes the elements' processing, not only the source's frame.
    assert!(latency.is_some_and(|l| l > gst::ClockTime::from_mseconds(40)), "{latency:?}");
}

/// `GstVideoFilter` turns on `GstBaseTransform`'s QoS, which drops the frames a QoS event says
/// are late; the elements shed analysis instead, so every frame comes out.
#[test]
fn no_element_drops_a_frame_that_qos_says_is_late() {
    let _alone = alone();
    init();
    for element in ["aicoachdetect", "aicoachtrack", "aicoachpose", "aicoachclassify", "aicoachoverlay"] {
        let mut h = gst_check::Harness::new(element);
        h.set_src_caps_str("video/x-raw,format=RGB,width=64,height=48,framerate=25/1");
        let frame = |i: u64| {
            let mut buffer = gst::Buffer::from_mut_slice(vec![90u8; 64 * 48 * 3]);
            let b = buffer.get_mut().unwrap();
            b.set_pts(gst::ClockTime::from_mseconds(40 * i));
            b.set_duration(gst::ClockTime::from_mseconds(40));
            buffer
        };
        h.push(frame(0)).unwrap();
        // The sink says the first frame came a second late: the next ones are late too.
        let late = gst::event::Qos::new(gst::QOSType::Underflow, 2.0, 1_000_000_000, gst::ClockTime::ZERO);
        assert!(h.push_upstream_event(late), "{element}: QoS event refused");
        for i in 1..5 {
            h.push(frame(i)).unwrap();
        }
        h.push_event(gst::event::Eos::new());
        let out: Vec<_> = std::iter::from_fn(|| h.try_pull()).collect();
        assert_eq!(out.len(), 5, "{element}: {} of 5 frames came out", out.len());
    }
}
