#include "hub/access/principal.hpp"

namespace classcam::hub::access {

namespace {
constexpr Caller kAll[] = {Caller::anonymous, Caller::admin, Caller::technician,
                           Caller::teacher,   Caller::coach, Caller::unit};
}

std::string_view to_string(Caller c) {
  switch (c) {
    case Caller::anonymous: return "anonymous";
    case Caller::admin: return "admin";
    case Caller::technician: return "technician";
    case Caller::teacher: return "teacher";
    case Caller::coach: return "coach";
    case Caller::unit: return "unit";
  }
  return "unknown";
}

Access Access::anyone() {
  std::uint32_t m = 0;
  for (auto c : kAll) m |= bit(c);
  return Access(m);
}

Access Access::any_user() { return only({Caller::admin, Caller::technician, Caller::teacher, Caller::coach}); }

Access Access::unit() { return only({Caller::unit}); }

Access Access::only(std::initializer_list<Caller> callers) {
  std::uint32_t m = 0;
  for (auto c : callers) m |= bit(c);
  return Access(m);
}

std::string Access::describe() const {
  if (is_public()) return "anyone";
  std::string out;
  for (auto c : kAll) {
    if (allows(c)) out += (out.empty() ? "" : ", ") + std::string(to_string(c));
  }
  return out;
}

}  // namespace classcam::hub::access
