#include "deadline/deadline.h"

namespace gw::deadline {

Deadlines::Deadlines(Executor executor) : timer_(executor) {}

Deadlines::~Deadlines() {
  for (Watch* w = head_; w;) {
    Watch* next = w->next_;
    w->owner_ = nullptr;
    w->prev_ = w->next_ = nullptr;
    w = next;
  }
}

void Deadlines::link(Watch& w) {
  w.prev_ = nullptr;
  w.next_ = head_;
  if (head_) head_->prev_ = &w;
  head_ = &w;
  ++count_;
}

void Deadlines::unlink(Watch& w) {
  if (w.prev_)
    w.prev_->next_ = w.next_;
  else
    head_ = w.next_;
  if (w.next_) w.next_->prev_ = w.prev_;
  w.prev_ = w.next_ = nullptr;
  // Nothing left to guard: stop waiting, or the pending wait would keep the io_context running
  // (a worker could not finish until the last deadline it ever had passed).
  if (--count_ == 0 && waiting_for_ != Clock::time_point::max()) {
    waiting_for_ = Clock::time_point::max();
    timer_.cancel();
  }
}

void Deadlines::wait_until(Clock::time_point t) {
  // Most deadlines are "now + the same timeout", later than the one already waited for: nothing to do.
  if (t >= waiting_for_) return;
  waiting_for_ = t;
  timer_.expires_at(t);  // cancels the current wait, whose handler then sees operation_aborted
  timer_.async_wait([this](const boost::system::error_code& ec) {
    if (ec == asio::error::operation_aborted) return;  // replaced by an earlier wait (or shut down)
    waiting_for_ = Clock::time_point::max();
    expire(Clock::now());
  });
}

void Deadlines::expire(Clock::time_point now) {
  Clock::time_point next = Clock::time_point::max();
  for (Watch* w = head_; w;) {
    Watch* after = w->next_;
    if (w->deadline_ <= now) {
      unlink(*w);
      w->owner_ = nullptr;
      w->expired_ = true;
      boost::system::error_code ignored;
      w->socket_->close(ignored);  // pending reads and writes end now, with operation_aborted
    } else if (w->deadline_ < next) {
      next = w->deadline_;
    }
    w = after;
  }
  if (next != Clock::time_point::max()) wait_until(next);
}

std::size_t Deadlines::cancel_group(const void* group) {
  std::size_t n = 0;
  for (Watch* w = head_; w;) {
    Watch* after = w->next_;
    if (group && w->group_ == group) {
      unlink(*w);
      w->owner_ = nullptr;
      w->expired_ = w->cancelled_ = true;
      boost::system::error_code ignored;
      w->socket_->close(ignored);
      ++n;
    }
    w = after;
  }
  return n;
}

void Watch::arm(Deadlines& owner, Socket& socket, Clock::time_point deadline, const void* group) {
  if (owner_ != &owner) {
    disarm();
    owner.link(*this);
    owner_ = &owner;
  }
  socket_ = &socket;
  deadline_ = deadline;
  group_ = group;
  expired_ = cancelled_ = false;
  owner.wait_until(deadline);
}

void Watch::disarm() {
  if (!owner_) return;
  owner_->unlink(*this);
  owner_ = nullptr;
}

}  // namespace gw::deadline
