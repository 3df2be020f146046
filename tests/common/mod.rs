// SPDX-License-Identifier: MPL-2.0
//! Helpers shared by the integration tests: where the real test media live, and loading them.
//!
//! Media come from Debian's `opencv-doc` package (installed by the setup and CI), never from
//! `../shared`, so these tests run on any fresh machine.

use std::path::PathBuf;

/// Sample photos and videos shipped by Debian's `opencv-doc`.
pub const OPENCV_SAMPLES: &str = "/usr/share/doc/opencv-doc/examples/data";

/// A file from the opencv-doc samples; panics with the fix if the package is missing, so a
/// machine without it fails loudly instead of skipping.
pub fn opencv_sample(name: &str) -> PathBuf {
    let path = PathBuf::from(OPENCV_SAMPLES).join(name);
    assert!(path.is_file(), "{} is missing: install Debian's opencv-doc package (the setup does)", path.display());
    path
}

pub fn fixture(name: &str) -> PathBuf {
    PathBuf::from(concat!(env!("CARGO_MANIFEST_DIR"), "/fixtures")).join(name)
}

/// A decoded RGB photo.
pub struct Photo {
    pub rgb: Vec<u8>,
    pub width: u32,
    pub height: u32,
}

impl Photo {
    pub fn open(path: &std::path::Path) -> Photo {
        let img = image::open(path).unwrap_or_else(|e| panic!("{}: {e}", path.display())).into_rgb8();
        let (width, height) = img.dimensions();
        Photo { rgb: img.into_raw(), width, height }
    }

    pub fn view(&self) -> aicoach_vision::image::PackedView<'_> {
        aicoach_vision::image::PackedView::rgb(&self.rgb, self.width, self.height).unwrap()
    }
}
