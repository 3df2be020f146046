// SPDX-License-Identifier: MPL-2.0
//! Inputs the models would misread, warned about once per stream by the first AI Coach element
//! (`pipelines/` prepare every input so none of this happens there):
//!
//! - Phone video is stored sideways with an `image-orientation` tag saying how to turn it;
//!   decoders do not turn it, and the models see people lying down unless something upstream
//!   (`videoflip video-direction=auto`) does. The tag passes through a `videoflip` unchanged,
//!   so whether the frames were turned is read off the graph upstream, not off the tag.
//! - Interlaced video (broadcast 1080i) reaches the models as combed frames unless it is
//!   deinterlaced upstream.

use std::sync::atomic::{AtomicBool, Ordering};

use gst::prelude::*;

/// Orientations that leave the picture as it is.
const UPRIGHT: [&str; 1] = ["rotate-0"];
/// How far upstream the graph is searched.
const MAX_DEPTH: usize = 64;

/// Warns once per stream, from the most upstream AI Coach element, when the stream's tags say
/// its frames must be turned and nothing upstream turns them, or when its frames are interlaced.
#[derive(Debug, Default)]
pub struct InputCheck {
    warned_rotation: AtomicBool,
    warned_interlaced: AtomicBool,
}

impl InputCheck {
    /// Looks at every event reaching `element`'s sink pad.
    pub fn on_sink_event(&self, element: &gst::Element, sink: &gst::Pad, event: &gst::Event) {
        match event.view() {
            gst::EventView::StreamStart(_) => {
                self.warned_rotation.store(false, Ordering::Relaxed);
                self.warned_interlaced.store(false, Ordering::Relaxed);
            }
            gst::EventView::Caps(caps) => {
                let interlaced = gst_video::VideoInfo::from_caps(caps.caps())
                    .is_ok_and(|info| info.interlace_mode() != gst_video::VideoInterlaceMode::Progressive);
                if interlaced && !matches!(upstream(sink), Upstream::OurElement) && first_time(&self.warned_interlaced)
                {
                    gst::element_warning!(
                        element,
                        gst::StreamError::Format,
                        ("The video is interlaced: the models see combed frames"),
                        ["Put `deinterlace` after the decoder (pipelines/ do)"]
                    );
                }
            }
            gst::EventView::Tag(tag) => {
                let Some(orientation) = tag.tag().get::<gst::tags::ImageOrientation>() else { return };
                let orientation = orientation.get().to_string();
                if !UPRIGHT.contains(&orientation.as_str())
                    && matches!(upstream(sink), Upstream::Nothing)
                    && first_time(&self.warned_rotation)
                {
                    gst::element_warning!(
                        element,
                        gst::StreamError::Format,
                        ("The video is tagged {orientation} but nothing upstream turns it: the athlete is seen sideways"),
                        ["Put `videoflip video-direction=auto` after the decoder (pipelines/ do)"]
                    );
                }
            }
            _ => {}
        }
    }
}

/// Whether this is the first time `warned` is asked since it was last cleared (and marks it).
fn first_time(warned: &AtomicBool) -> bool {
    !warned.swap(true, Ordering::Relaxed)
}

enum Upstream {
    /// A `videoflip` (or its GL twin) turns or flips the frames.
    Turns,
    /// Another AI Coach element is upstream: it warns, not us.
    OurElement,
    Nothing,
}

/// What is upstream of `sink`, following pads through bins (ghost pads).
fn upstream(sink: &gst::Pad) -> Upstream {
    let mut todo = vec![(sink.clone(), 0)];
    while let Some((pad, depth)) = todo.pop() {
        if depth > MAX_DEPTH {
            continue;
        }
        let Some(peer) = pad.peer() else { continue };
        let Some(element) = source_element(&peer) else { continue };
        let factory = element.factory().map(|f| f.name().to_string()).unwrap_or_default();
        if factory.starts_with("aicoach") {
            return Upstream::OurElement;
        }
        if turns(&element, &factory) {
            return Upstream::Turns;
        }
        todo.extend(element.sink_pads().into_iter().map(|p| (p, depth + 1)));
    }
    Upstream::Nothing
}

/// The element that really produces what arrives on `pad` (a src pad): through a bin's ghost
/// pad to the element inside; from a ghost sink pad's inner proxy out to the bin's outside.
fn source_element(pad: &gst::Pad) -> Option<gst::Element> {
    if let Some(ghost) = pad.downcast_ref::<gst::GhostPad>() {
        let target = ghost.target()?;
        return source_element(&target);
    }
    match pad.parent()? {
        parent if parent.is::<gst::GhostPad>() => {
            // The inner side of a bin's sink ghost pad: continue outside the bin.
            let ghost = parent.downcast::<gst::GhostPad>().ok()?;
            let outside = ghost.peer()?;
            source_element(&outside)
        }
        parent => parent.downcast::<gst::Element>().ok(),
    }
}

fn turns(element: &gst::Element, factory: &str) -> bool {
    if !matches!(factory, "videoflip" | "glvideoflip") || element.find_property("video-direction").is_none() {
        return false;
    }
    let direction = element.property::<gst_video::VideoOrientationMethod>("video-direction");
    direction != gst_video::VideoOrientationMethod::Identity
}
