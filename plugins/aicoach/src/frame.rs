// SPDX-License-Identifier: MPL-2.0
//! The raw video formats the elements accept, and reading a mapped frame as a model's source
//! without converting it.
//!
//! Every element is a `GstVideoFilter` (caps arrive parsed through `set_info`) but none uses
//! `transform_frame_ip`: it maps each frame for writing, which copies memory a tee shares, and
//! its frame gives no access to the buffer whose metadata every element writes. The analysis
//! elements map for reading in `transform_ip` ([`analyse`]); the overlay maps for writing
//! only when it has something to draw.

use aicoach_vision::image::{FrameView, PackedFormat, PackedView, YuvLayout, YuvView};
use gst::subclass::prelude::*;
use gst_video::prelude::*;

/// Formats every analysis element accepts, no conversion forced.
pub const FORMATS: &[gst_video::VideoFormat] = &[
    gst_video::VideoFormat::Rgba,
    gst_video::VideoFormat::Bgra,
    gst_video::VideoFormat::Rgbx,
    gst_video::VideoFormat::Bgrx,
    gst_video::VideoFormat::Argb,
    gst_video::VideoFormat::Abgr,
    gst_video::VideoFormat::Xrgb,
    gst_video::VideoFormat::Xbgr,
    gst_video::VideoFormat::Rgb,
    gst_video::VideoFormat::Bgr,
    gst_video::VideoFormat::I420,
    gst_video::VideoFormat::Nv12,
];

pub fn caps() -> gst::Caps {
    gst_video::VideoCapsBuilder::new().format_list(FORMATS.iter().copied()).build()
}

/// Always-present `src` and `sink` templates of an analysis filter.
pub fn pad_templates() -> Vec<gst::PadTemplate> {
    let caps = caps();
    vec![
        gst::PadTemplate::new("src", gst::PadDirection::Src, gst::PadPresence::Always, &caps).unwrap(),
        gst::PadTemplate::new("sink", gst::PadDirection::Sink, gst::PadPresence::Always, &caps).unwrap(),
    ]
}

/// The caps' frame layout, or the error for a buffer that came before any caps.
pub fn negotiated<T: ElementImpl>(
    imp: &T,
    info: Option<&gst_video::VideoInfo>,
) -> Result<gst_video::VideoInfo, gst::FlowError> {
    info.cloned().ok_or_else(|| {
        gst::element_imp_error!(imp, gst::CoreError::Negotiation, ("No caps before the first buffer"));
        gst::FlowError::NotNegotiated
    })
}

/// Whether new caps change the frame size from the `old` ones (keypoints and boxes of the old
/// size would land in the wrong place).
pub fn resized(old: Option<&gst_video::VideoInfo>, new: &gst_video::VideoInfo) -> bool {
    old.is_some_and(|old| (old.width(), old.height()) != (new.width(), new.height()))
}

/// Maps `buffer` for reading as a frame of `info` and hands `f` a view of it.
fn with_view<R>(
    buffer: &gst::BufferRef,
    info: &gst_video::VideoInfo,
    f: impl FnOnce(&FrameView) -> R,
) -> Result<R, String> {
    let frame = gst_video::VideoFrameRef::from_buffer_ref_readable(buffer, info)
        .map_err(|_| "cannot map the frame for reading (buffer smaller than its caps say?)".to_string())?;
    Ok(f(&view(&frame)?))
}

/// Runs `analysis` on the buffer's frame, posting its failures as the element's errors: a frame
/// that cannot be read (`StreamError::Format`) or the analysis' own error (`LibraryError::Failed`,
/// "`what` failed: ...").
pub fn analyse<T: ElementImpl, R, E: std::fmt::Display>(
    imp: &T,
    buffer: &gst::BufferRef,
    info: &gst_video::VideoInfo,
    what: &str,
    analysis: impl FnOnce(&FrameView) -> Result<R, E>,
) -> Result<R, gst::FlowError> {
    with_view(buffer, info, analysis)
        .map_err(|e| {
            gst::element_imp_error!(imp, gst::StreamError::Format, ("{e}"));
            gst::FlowError::Error
        })?
        .map_err(|e| {
            gst::element_imp_error!(imp, gst::LibraryError::Failed, ("{what} failed: {e}"));
            gst::FlowError::Error
        })
}

/// The packed RGB layout of a format, `None` for YUV ones.
pub fn packed_format(f: gst_video::VideoFormat) -> Option<PackedFormat> {
    use gst_video::VideoFormat as V;
    Some(match f {
        V::Rgba => PackedFormat::Rgba,
        V::Bgra => PackedFormat::Bgra,
        V::Rgbx => PackedFormat::Rgbx,
        V::Bgrx => PackedFormat::Bgrx,
        V::Argb => PackedFormat::Argb,
        V::Abgr => PackedFormat::Abgr,
        V::Xrgb => PackedFormat::Xrgb,
        V::Xbgr => PackedFormat::Xbgr,
        V::Rgb => PackedFormat::Rgb,
        V::Bgr => PackedFormat::Bgr,
        _ => return None,
    })
}

/// A view of a mapped frame for the models. Fails only for a format the caps never allow or a
/// buffer smaller than its caps say.
pub fn view<'a>(frame: &'a gst_video::VideoFrameRef<&gst::BufferRef>) -> Result<FrameView<'a>, String> {
    let (w, h) = (frame.width(), frame.height());
    let format = frame.format();
    let err = |e: aicoach_vision::ImageError| e.to_string();
    if let Some(packed) = packed_format(format) {
        let data = frame.plane_data(0).map_err(|e| e.to_string())?;
        let stride = frame.plane_stride()[0] as usize;
        return PackedView::new(data, w, h, stride, packed).map(FrameView::Packed).map_err(err);
    }
    let strides = frame.plane_stride();
    let plane = |i| frame.plane_data(i).map_err(|e| e.to_string());
    let yuv = match format {
        gst_video::VideoFormat::I420 => YuvView::new(
            YuvLayout::I420,
            [plane(0)?, plane(1)?, plane(2)?],
            [strides[0] as usize, strides[1] as usize, strides[2] as usize],
            w,
            h,
        ),
        gst_video::VideoFormat::Nv12 => {
            let uv = plane(1)?;
            YuvView::new(YuvLayout::Nv12, [plane(0)?, uv, uv], [strides[0] as usize, strides[1] as usize, 0], w, h)
        }
        other => return Err(format!("unsupported video format {other:?}")),
    };
    yuv.map(FrameView::Yuv).map_err(err)
}
