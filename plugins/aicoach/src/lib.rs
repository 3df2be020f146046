// SPDX-License-Identifier: MPL-2.0
#![allow(clippy::non_send_fields_in_send_ty)]
//! GStreamer plugin `aicoach`: person detection, athlete tracking, pose estimation, bad-pose
//! classification and overlay, for coaching from video.

use gst::glib;

pub mod classify;
pub mod detect;
pub mod draw;
pub mod frame;
pub mod inference;
pub mod input_check;
pub mod meta;
pub mod overlay;
pub mod pose;
pub mod realtime;
pub mod timing;
pub mod track;

fn plugin_init(plugin: &gst::Plugin) -> Result<(), glib::BoolError> {
    meta::register_custom_meta();
    detect::register(plugin)?;
    track::register(plugin)?;
    pose::register(plugin)?;
    classify::register(plugin)?;
    overlay::register(plugin)?;
    Ok(())
}

gst::plugin_define!(
    aicoach,
    env!("CARGO_PKG_DESCRIPTION"),
    plugin_init,
    concat!(env!("CARGO_PKG_VERSION"), "-", env!("COMMIT_ID")),
    "MPL",
    env!("CARGO_PKG_NAME"),
    env!("CARGO_PKG_NAME"),
    env!("CARGO_PKG_REPOSITORY"),
    env!("BUILD_REL_DATE")
);
