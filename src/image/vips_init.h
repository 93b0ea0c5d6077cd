#pragma once

namespace argus::image {

// Initialises libvips once per process; safe to call from any thread, any number of times.
// Every function of this module calls it, so calling it up front only moves the start-up cost.
//
// The operation cache is disabled because callers free their input buffers right after a call,
// and each image is processed on one thread because callers parallelise across images.
void InitializeVips();

// Sends libvips's warnings ("error in tile 0 x 8" on a damaged image) to the JSON log
// (LogLine, component "vips") instead of GLib's plain-text lines on stderr, for the
// services, whose every stderr line is JSON.
void LogVipsWarnings();

// Drops libvips's warnings, for `argus classify`: they cannot be told apart by image when
// several decode at once, and the error of each file that fails names its reason.
void DropVipsWarnings();

}  // namespace argus::image
