#pragma once
#include <netinet/in.h>

#include <cstdint>

namespace classcam::test {

// 127.0.0.1:port as a socket address.
sockaddr_in loopback(std::uint16_t port);

// A TCP port on 127.0.0.1 that was free a moment ago (bound to port 0, read back, released). Tests
// that start servers pass it on; servers of our own are better started on port 0 and asked.
std::uint16_t free_port();

// True once something accepts TCP connections on 127.0.0.1:port.
bool port_open(std::uint16_t port);

}  // namespace classcam::test
