#pragma once
// The web pages' files, embedded in the hub binary at build time (see embed.cmake).
#include <string_view>
#include <vector>

namespace classcam::hub::web {

struct Asset {
  std::string_view path;  // "/index.html", "/app.js" ...
  std::string_view bytes;
  std::string_view etag;  // quoted, from the SHA-256 of the bytes
};

const std::vector<Asset>& embedded_assets();

}  // namespace classcam::hub::web
