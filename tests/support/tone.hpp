#pragma once
// Finding a tone in decoded audio, for the talkback tests (hub/live, firmware/live): a Goertzel filter
// at one frequency over blocks of 16-bit mono PCM, and the PCM of a WAV file that may still be being
// written (wavenc writes its header's sizes only at the end).
#include <cstddef>
#include <cstdint>
#include <filesystem>
#include <vector>

namespace classcam::test {

struct ToneLevel {
  double rms = 0;       // of the block, in 16-bit units
  double fraction = 0;  // of the block's energy at the frequency asked: ~1 for a pure tone there, ~0 otherwise
  // A tone well above the noise floor (opus of silence, dither) and most of the energy at the frequency.
  bool present() const { return rms > 200 && fraction > 0.5; }
};

ToneLevel tone_level(const std::int16_t* samples, std::size_t n, double rate, double freq);

// How many samples of `pcm` from `from` on lie in 10 ms blocks where the tone at `freq` is present.
std::size_t tone_samples(const std::vector<std::int16_t>& pcm, double rate, double freq, std::size_t from = 0);

struct Wav {
  std::uint32_t rate = 0;
  std::uint16_t channels = 0;
  std::vector<std::int16_t> samples;  // the first channel only
};
// The PCM (16-bit) of a WAV file as far as it is written; empty when the header is not there yet.
Wav read_wav(const std::filesystem::path& file);

}  // namespace classcam::test
