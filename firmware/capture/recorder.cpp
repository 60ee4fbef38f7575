#include "firmware/capture/recorder.hpp"

#include <boost/asio/post.hpp>
#include <gst/app/gstappsink.h>

#include "common/log/log.hpp"
#include "firmware/capture/plan.hpp"

namespace classcam::capture {

namespace {
log::Logger logger() { return log::get("capture"); }
}  // namespace

struct Recorder::BusContext {
  boost::asio::io_context& io;
  std::weak_ptr<bool> alive;
  Recorder* recorder;
};

Recorder::Recorder(boost::asio::io_context& io, const Plan& plan, std::vector<config::PrivacyZone> zones, Events events,
                   bool latency_strip)
    : io_(io), description_(plan.description), events_(std::move(events)) {
  if (plan.keyframe_grid_ms > 0) {
    keyframes_ = std::make_unique<KeyframeGrid>(std::chrono::milliseconds(plan.keyframe_grid_ms));
  }
  std::weak_ptr<bool> alive = alive_;
  probe_ = std::make_unique<FrameProbe>(
      std::move(zones),
      [this, alive, &io](SamplePtr sample) {
        // Streaming thread: hand the frame to the loop and return.
        boost::asio::post(io, [this, alive, s = std::shared_ptr<GstSample>(sample.release(), GstSampleUnref{})] {
          if (alive.expired()) return;
          auto grabs = std::move(grabs_);
          grabs_.clear();
          for (auto& g : grabs) g(SamplePtr(gst_sample_ref(s.get())));
        });
      },
      latency_strip);
}

Recorder::~Recorder() { teardown(); }

Status Recorder::start() {
  std::string error;
  pipeline_ = parse_pipeline(description_, error);
  if (!pipeline_) return Error{"cannot build the capture pipeline: " + error};
  bus_context_ = std::make_unique<BusContext>(BusContext{io_, alive_, this});
  BusPtr bus(gst_element_get_bus(pipeline_.get()));
  gst_bus_set_sync_handler(bus.get(), &Recorder::on_bus_message, bus_context_.get(), nullptr);
  if (ElementPtr privacy(gst_bin_get_by_name(GST_BIN(pipeline_.get()), kPrivacyElement)); privacy) {
    probe_->attach(privacy.get());
  }
  if (ElementPtr encoder(gst_bin_get_by_name(GST_BIN(pipeline_.get()), kEncoderElement)); encoder && keyframes_) {
    keyframes_->attach(encoder.get());
  }
  if (ElementPtr sink(gst_bin_get_by_name(GST_BIN(pipeline_.get()), kSinkElement)); sink) {
    GstAppSinkCallbacks callbacks{};
    callbacks.new_sample = &Recorder::on_new_sample;
    // The end of the recording is the muxed stream's end at its appsink. The pipeline's own EOS waits
    // for every sink, and a live branch's (webrtcbin's, talkback's) may never get one.
    callbacks.eos = &Recorder::on_sink_eos;
    eos_from_sink_ = true;
    gst_app_sink_set_callbacks(GST_APP_SINK(sink.get()), &callbacks, bus_context_.get(), nullptr);
  }
  logger()->debug("pipeline: {}", description_);
  if (gst_element_set_state(pipeline_.get(), GST_STATE_PLAYING) == GST_STATE_CHANGE_FAILURE) {
    // The element that failed has posted an ERROR (already queued on the loop, so it is reported
    // first); this covers elements that fail without saying why.
    std::weak_ptr<bool> alive = alive_;
    boost::asio::post(io_, [this, alive] {
      if (alive.expired() || reported_error_) return;
      reported_error_ = true;
      if (events_.error) events_.error("the capture pipeline could not start");
    });
  }
  return ok_status();
}

GstBusSyncReply Recorder::on_bus_message(GstBus* /*bus*/, GstMessage* message, gpointer context) {
  auto* ctx = static_cast<BusContext*>(context);
  // Any GStreamer thread: post the message to the loop and drop it from the bus.
  boost::asio::post(ctx->io, [alive = ctx->alive, rec = ctx->recorder,
                              m = std::shared_ptr<GstMessage>(gst_message_ref(message), GstMessageUnref{})] {
    if (alive.expired()) return;
    rec->handle(m.get());
  });
  return GST_BUS_DROP;
}

GstFlowReturn Recorder::on_new_sample(GstAppSink* sink, gpointer context) {
  auto* ctx = static_cast<BusContext*>(context);
  // Streaming thread: take the sample and post it to the loop, in order (a single poster, a FIFO loop).
  GstSample* sample = gst_app_sink_pull_sample(sink);
  if (sample == nullptr) return GST_FLOW_EOS;
  boost::asio::post(
      ctx->io, [alive = ctx->alive, rec = ctx->recorder, s = std::shared_ptr<GstSample>(sample, GstSampleUnref{})] {
        if (alive.expired() || !rec->events_.data) return;
        rec->events_.data(SamplePtr(gst_sample_ref(s.get())));
      });
  return GST_FLOW_OK;
}

void Recorder::on_sink_eos(GstAppSink* /*sink*/, gpointer context) {
  auto* ctx = static_cast<BusContext*>(context);
  // Streaming thread: after the last sample was posted; post the end behind it.
  boost::asio::post(ctx->io, [alive = ctx->alive, rec = ctx->recorder] {
    if (alive.expired() || !rec->pipeline_ || !rec->events_.eos) return;
    rec->events_.eos();
  });
}

namespace {
// Whether a message comes from inside the live branch's bin.
bool from_live_branch(GstMessage* m) {
  for (GstObject* o = GST_MESSAGE_SRC(m); o != nullptr; o = GST_OBJECT_PARENT(o)) {
    if (GST_OBJECT_NAME(o) != nullptr && std::string_view(GST_OBJECT_NAME(o)) == kLiveBinElement && GST_IS_BIN(o)) {
      return true;
    }
  }
  return false;
}
}  // namespace

void Recorder::handle(GstMessage* m) {
  if (!pipeline_) return;
  switch (GST_MESSAGE_TYPE(m)) {
    case GST_MESSAGE_ERROR: {
      const std::string what = describe(m);
      if (from_live_branch(m)) {
        logger()->warn("live branch error: {}", what);
        if (events_.live_error) events_.live_error(what);
        break;
      }
      logger()->error("pipeline error: {}", what);
      if (!reported_error_) {
        reported_error_ = true;
        if (events_.error) events_.error(what);
      }
      break;
    }
    case GST_MESSAGE_WARNING: logger()->warn("pipeline warning: {}", describe(m)); break;
    case GST_MESSAGE_EOS:
      if (!eos_from_sink_ && events_.eos) events_.eos();
      break;
    case GST_MESSAGE_STATE_CHANGED: {
      if (GST_MESSAGE_SRC(m) != GST_OBJECT(pipeline_.get())) break;
      GstState old_state = GST_STATE_NULL;
      GstState new_state = GST_STATE_NULL;
      gst_message_parse_state_changed(m, &old_state, &new_state, nullptr);
      if (new_state == GST_STATE_PLAYING && old_state != GST_STATE_PLAYING) {
        if (const auto rt = running_time_ns()) {
          utc_zero_ = std::chrono::system_clock::now() - std::chrono::nanoseconds(*rt);
        }
        if (events_.started) events_.started();
      }
      break;
    }
    default: break;
  }
}

void Recorder::stop() {
  if (!pipeline_) return;
  gst_element_send_event(pipeline_.get(), gst_event_new_eos());
}

void Recorder::abort() { teardown(); }

void Recorder::teardown() {
  if (!pipeline_) return;
  gst_element_set_state(pipeline_.get(), GST_STATE_NULL);
  probe_->detach();
  if (keyframes_) keyframes_->detach();
  BusPtr bus(gst_element_get_bus(pipeline_.get()));
  gst_bus_set_sync_handler(bus.get(), nullptr, nullptr, nullptr);
  pipeline_.reset();
  bus_context_.reset();
  fail_grabs();
}

void Recorder::fail_grabs() {
  auto grabs = std::move(grabs_);
  grabs_.clear();
  for (auto& g : grabs) g(nullptr);
}

void Recorder::grab_frame(std::function<void(SamplePtr)> done) {
  if (!pipeline_) {
    done(nullptr);
    return;
  }
  grabs_.push_back(std::move(done));
  probe_->request_frame();
}

std::optional<std::int64_t> Recorder::running_time_ns() const {
  if (!pipeline_) return std::nullopt;
  GstClock* clock = gst_element_get_clock(pipeline_.get());
  if (clock == nullptr) return std::nullopt;
  const GstClockTime now = gst_clock_get_time(clock);
  gst_object_unref(clock);
  const GstClockTime base = gst_element_get_base_time(pipeline_.get());
  if (now < base) return 0;
  return static_cast<std::int64_t>(now - base);
}

Status warm_up(const std::string& description) {
  std::string error;
  ElementPtr p = parse_pipeline(description, error);
  if (!p) return Error{error};
  const auto r = gst_element_set_state(p.get(), GST_STATE_READY);
  gst_element_set_state(p.get(), GST_STATE_NULL);
  if (r == GST_STATE_CHANGE_FAILURE) return Error{"the pipeline does not reach READY"};
  return ok_status();
}

}  // namespace classcam::capture
