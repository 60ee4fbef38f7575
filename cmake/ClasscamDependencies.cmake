# All dependencies come from Debian 12 packages (see scripts/deps). Each is found once here so every
# CMakeLists below can name a plain imported target.
include_guard(GLOBAL)
find_package(PkgConfig REQUIRED)
find_package(Threads REQUIRED)
find_package(OpenSSL 3 REQUIRED)
find_package(nlohmann_json 3.11 REQUIRED)
find_package(tomlplusplus 3.3 REQUIRED)
find_package(fmt REQUIRED)
find_package(spdlog 1.10 REQUIRED)

find_package(Boost 1.74 REQUIRED)
find_package(SQLite3 REQUIRED)
pkg_check_modules(GST REQUIRED IMPORTED_TARGET gstreamer-1.0>=1.22 gstreamer-app-1.0 gstreamer-video-1.0
                  gstreamer-pbutils-1.0)
# Live (webrtcbin): the WebRTC and SDP libraries (libgstreamer-plugins-bad1.0-dev, libgstreamer-plugins-base1.0-dev).
pkg_check_modules(GST_WEBRTC REQUIRED IMPORTED_TARGET gstreamer-webrtc-1.0>=1.22 gstreamer-sdp-1.0)
# libnice (libnice-dev): webrtcbin's ICE agent, to keep ICE on the addresses a unit is configured for.
pkg_check_modules(NICE REQUIRED IMPORTED_TARGET nice>=0.1.18)
pkg_check_modules(MOSQUITTO REQUIRED IMPORTED_TARGET libmosquitto>=2.0)
pkg_check_modules(GPIOD REQUIRED IMPORTED_TARGET libgpiod>=1.6)
pkg_check_modules(SYSTEMD REQUIRED IMPORTED_TARGET libsystemd)
pkg_check_modules(SODIUM REQUIRED IMPORTED_TARGET libsodium)

if(CLASSCAM_BUILD_TESTS)
  find_package(GTest REQUIRED)
  include(GoogleTest)
  enable_testing()
endif()
