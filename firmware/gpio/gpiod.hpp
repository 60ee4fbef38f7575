#pragma once
// libgpiod (v1.6, Debian 12) button and LED. The button's line events are read on the event loop: the
// line's event fd is wrapped in a boost::asio::posix::stream_descriptor and waited on asynchronously, so
// no thread of ours or of libgpiod's is involved.
#include <boost/asio/io_context.hpp>

#include <memory>
#include <string>

#include "common/config/unit_config.hpp"
#include "firmware/gpio/gpio.hpp"

namespace classcam::gpio {

struct Gpio {
  std::unique_ptr<Button> button;
  std::unique_ptr<Led> led;
};

// Opens the chip and requests both lines (consumer "classcamd"). Throws std::runtime_error naming the
// chip, line and what failed (a start-up error: the unit must not record without its LED).
Gpio open_gpiod(boost::asio::io_context& io, const config::UnitConfig::Gpio& config);

}  // namespace classcam::gpio
