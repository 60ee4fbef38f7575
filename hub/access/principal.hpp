#pragma once
// Who is calling: nobody, a person with a role, or a unit. Every route declares an Access (which
// callers may reach it); ownership beyond that is decided by policy.hpp.
#include <cstdint>
#include <initializer_list>
#include <optional>
#include <string>
#include <string_view>

namespace classcam::hub::access {

enum class Caller : std::uint8_t { anonymous, admin, technician, teacher, coach, unit };
std::string_view to_string(Caller c);

struct Principal {
  Caller caller = Caller::anonymous;
  std::string id;                      // user id or unit id
  std::string login;                   // user login or unit id
  std::string display_name;            // for people and logs
  std::optional<std::string> room_id;  // units: the room they are in
  // How the caller proved who it is; a session can be ended by logout, tokens cannot.
  enum class Via : std::uint8_t { none, session, api_token, unit_token } via = Via::none;
  std::string credential_hash;  // the session's stored hash (for logout)
  std::string address;          // the client's IP address

  bool is_user() const { return caller != Caller::anonymous && caller != Caller::unit; }
  bool is_unit() const { return caller == Caller::unit; }
  bool is(Caller c) const { return caller == c; }
};

// The callers a route admits. Public routes admit anonymous callers too (and check something else,
// e.g. the tus discovery OPTIONS or a calendar feed's secret token).
class Access {
 public:
  static Access anyone();    // public
  static Access any_user();  // every signed-in person, any role
  static Access unit();      // units only
  static Access only(std::initializer_list<Caller> callers);

  bool is_public() const { return (mask_ & bit(Caller::anonymous)) != 0; }
  bool allows(Caller c) const { return (mask_ & bit(c)) != 0; }
  // "admin, technician" (for docs and errors).
  std::string describe() const;

 private:
  explicit Access(std::uint32_t mask) : mask_(mask) {}
  static constexpr std::uint32_t bit(Caller c) { return 1U << static_cast<unsigned>(c); }
  std::uint32_t mask_;
};

}  // namespace classcam::hub::access
