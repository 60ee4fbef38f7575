#pragma once
// The one place that decides what a caller may do with a particular recording, observation, comment
// or share. Handlers gather the facts, ask here, and obey; nothing else in the hub decides ownership.
//
// The rules (docs/hub-api.md repeats them for people):
//   - A recording belongs to its owner: the observation's teacher when it was scheduled, else the
//     room's default teacher, else nobody until an admin assigns one.
//   - Only the owner and the people the owner shared it with may watch it (media, segments) and read
//     or write its comments and bookmarks. Admins and technicians see that it exists (title, room,
//     times, state: they run the storage) but cannot watch it unless it was shared with them.
//   - Only the owner shares; a share cannot be re-shared. Owners and admins may delete a recording;
//     only an admin assigns an owner, and only to an unowned recording, and only to a teacher.
//   - Observations: teachers schedule their own, admins anyone's; the teacher, invited coaches,
//     admins and technicians see them; the teacher and admins change or cancel them. Of an
//     observation that overlaps one being scheduled, only those who see it learn what it is.
//   - A room's units: admins and technicians send them any command and read their command history;
//     a teacher may start, stop and bookmark (and read the history) only on a unit in a room they
//     teach in: as its default teacher, or as the teacher of the observation under way or next there.
//   - Passwords: a change or reset ends every other session of the account and revokes its API
//     tokens (whoever knew the old password may have made one).
#include <optional>
#include <string>
#include <vector>

#include "hub/access/principal.hpp"

namespace classcam::hub::access {

struct RecordingFacts {
  std::optional<std::string> owner_id;
  bool shared_with_caller = false;
};

struct RecordingRights {
  bool see = false;       // metadata: title, room, times, state, size
  bool watch = false;     // media, segments, comments, bookmarks
  bool annotate = false;  // add comments and bookmarks
  bool share = false;     // grant and revoke shares, list them
  bool retitle = false;
  bool remove = false;
  bool assign_owner = false;
};

RecordingRights recording_rights(const Principal& p, const RecordingFacts& r);

// Whether `p` may delete a comment or bookmark by `author_id` on a recording with these facts.
bool may_delete_annotation(const Principal& p, const std::optional<std::string>& author_id, const RecordingFacts& r);

// Whether the owner may share with `target_id` (never with themselves; re-sharing is prevented by
// RecordingRights::share being the owner's alone).
bool may_share_with(const Principal& p, const RecordingFacts& r, const std::string& target_id);

struct ObservationFacts {
  std::string teacher_id;
  std::vector<std::string> coach_ids;
};

struct ObservationRights {
  bool see = false;
  bool change = false;  // update or cancel
};

ObservationRights observation_rights(const Principal& p, const ObservationFacts& o);

// Whether `p` may schedule an observation taught by `teacher_id`.
bool may_schedule_for(const Principal& p, const std::string& teacher_id);

// The room a unit is in, and who teaches there now.
struct RoomFacts {
  bool in_room = false;
  std::optional<std::string> default_teacher_id;
  std::vector<std::string> lesson_teacher_ids;  // of the observations under way and the next one
};

struct UnitRights {
  bool record = false;   // start, stop and bookmark; read the unit's commands
  bool operate = false;  // every other command (snapshot, reload_schedule, streams)
};

UnitRights unit_rights(const Principal& p, const RoomFacts& room);

// Live observation of a unit (docs/live.md, "Who may watch"): the teacher of the observation under
// way in the unit's room (with none under way: the room's default teacher) watches and moderates (sees
// who watches, ends views, mutes talkback, consents); that observation's invited coaches watch and talk
// once the teacher consented; technicians get a video-only, time-limited framing preview; nobody else
// (admins included) watches.
struct LiveFacts {
  bool in_room = false;
  std::optional<std::string> default_teacher_id;
  std::optional<std::string> observation_id;  // the observation under way there
  std::optional<std::string> observation_teacher_id;
  std::vector<std::string> observation_coach_ids;
  bool observation_live_allowed = false;  // the teacher consented when scheduling it
  // A manual session (no observation under way): whom the room's teacher invited to watch it.
  std::vector<std::string> invited_ids;
};

struct LiveRights {
  bool watch = false;          // video and audio
  bool preview = false;        // video only, time-limited
  bool talk = false;           // may take the talk floor
  bool moderate = false;       // the teacher
  bool needs_consent = false;  // admitted only once the teacher consented
  bool any() const { return watch || preview; }
};

LiveRights live_rights(const Principal& p, const LiveFacts& f);

// Teachers and coaches see only their own things in lists; admins and technicians see everything
// they are allowed to see at all.
bool sees_everything_in_lists(const Principal& p);

}  // namespace classcam::hub::access
