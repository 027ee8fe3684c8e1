// Deadlines for many sockets on one worker with a single timer. beast::tcp_stream arms and cancels an
// asio timer around every read and write (a locked timer-queue insert and removal each, ~2.5k
// instructions per backend call); here a socket's deadline is a node in a per-worker list, arming
// and disarming are pointer updates, and the one timer waits for the earliest deadline (and stops when
// no watch is armed, so an idle worker's io_context can run out of work). When it passes,
// the socket is closed (its pending operations end with operation_aborted) and the watch reports
// expired(), which callers turn into a timeout error. Not thread-safe: one Deadlines per io_context
// thread, used only from that thread.
#pragma once

#include <chrono>

#include "httpio/httpio.h"

namespace gw::deadline {

namespace asio = boost::asio;
using Clock = std::chrono::steady_clock;
using httpio::Executor;
using httpio::Socket;

class Watch;

class Deadlines {
 public:
  explicit Deadlines(Executor executor);
  ~Deadlines();  // watches still armed are detached (they no longer fire)
  Deadlines(const Deadlines&) = delete;
  Deadlines& operator=(const Deadlines&) = delete;

  std::size_t armed() const { return count_; }
  // Fires the watches whose deadline is <= now (tests call it; the timer does in production).
  void expire(Clock::time_point now);
  // Fires, now, the watches armed for `group` (e.g. one client request whose client went away);
  // they report cancelled() as well as expired(). Returns how many.
  std::size_t cancel_group(const void* group);

 private:
  friend class Watch;
  void link(Watch& w);
  void unlink(Watch& w);
  void wait_until(Clock::time_point t);  // the timer waits for t if that is earlier than it waits now

  httpio::Timer timer_;
  Clock::time_point waiting_for_ = Clock::time_point::max();  // max: the timer is idle
  Watch* head_ = nullptr;
  std::size_t count_ = 0;
};

// One socket's deadline. Lives next to the socket it guards (and must not outlive it while armed);
// neither copyable nor movable, because the list points at it.
class Watch {
 public:
  Watch() = default;
  ~Watch() { disarm(); }
  Watch(const Watch&) = delete;
  Watch& operator=(const Watch&) = delete;

  // Closes `socket` at `deadline` unless disarmed or re-armed first. Re-arming moves the deadline
  // and clears expired(). `group` ties the watch to what Deadlines::cancel_group may cut short.
  void arm(Deadlines& owner, Socket& socket, Clock::time_point deadline, const void* group = nullptr);
  void disarm();
  bool armed() const { return owner_ != nullptr; }
  // The deadline passed while armed and the socket was closed.
  bool expired() const { return expired_; }
  // It fired early, by Deadlines::cancel_group.
  bool cancelled() const { return cancelled_; }

 private:
  friend class Deadlines;
  Deadlines* owner_ = nullptr;
  Socket* socket_ = nullptr;
  Clock::time_point deadline_{};
  const void* group_ = nullptr;
  Watch *prev_ = nullptr, *next_ = nullptr;
  bool expired_ = false;
  bool cancelled_ = false;
};

}  // namespace gw::deadline
