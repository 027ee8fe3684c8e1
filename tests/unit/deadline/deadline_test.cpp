#include "deadline/deadline.h"

#include <gtest/gtest.h>

#include <boost/asio/io_context.hpp>
#include <memory>

namespace gw::deadline {
namespace {

using tcp = asio::ip::tcp;
using namespace std::chrono_literals;

// A connected pair of loopback sockets on `io`.
struct Pair {
  explicit Pair(asio::io_context& io) : a(io), b(io) {
    tcp::acceptor acceptor(io, tcp::endpoint(asio::ip::address_v4::loopback(), 0));
    a.connect(acceptor.local_endpoint());
    acceptor.accept(b);
  }
  Socket a, b;
};

TEST(Deadlines, ExpireClosesOnlyWhatIsDue) {
  asio::io_context io;
  Deadlines d(io.get_executor());
  Pair p1(io), p2(io);
  Watch w1, w2;
  const auto t = Clock::now() + 1h;
  w1.arm(d, p1.a, t);
  w2.arm(d, p2.a, t + 1s);
  EXPECT_EQ(d.armed(), 2u);
  d.expire(t - 1ns);
  EXPECT_FALSE(w1.expired());
  EXPECT_TRUE(p1.a.is_open());
  d.expire(t);
  EXPECT_TRUE(w1.expired());
  EXPECT_FALSE(w1.armed());
  EXPECT_FALSE(p1.a.is_open());
  EXPECT_FALSE(w2.expired());
  EXPECT_TRUE(p2.a.is_open());
  EXPECT_EQ(d.armed(), 1u);
  w2.disarm();
  EXPECT_EQ(d.armed(), 0u);
  d.expire(t + 2s);
  EXPECT_TRUE(p2.a.is_open()) << "a disarmed watch never fires";
}

TEST(Deadlines, CancelGroupClosesOnlyThatGroupsSockets) {
  asio::io_context io;
  Deadlines d(io.get_executor());
  Pair p1(io), p2(io), p3(io);
  Watch w1, w2, w3;
  int request_a = 0, request_b = 0;  // two client requests' addresses as groups
  const auto t = Clock::now() + 1h;
  w1.arm(d, p1.a, t, &request_a);
  w2.arm(d, p2.a, t, &request_b);
  w3.arm(d, p3.a, t, &request_a);
  EXPECT_EQ(d.cancel_group(&request_a), 2u);
  EXPECT_TRUE(w1.cancelled() && w1.expired() && !w1.armed());
  EXPECT_TRUE(w3.cancelled());
  EXPECT_FALSE(p1.a.is_open());
  EXPECT_FALSE(p3.a.is_open());
  EXPECT_FALSE(w2.cancelled());
  EXPECT_TRUE(p2.a.is_open());
  EXPECT_EQ(d.armed(), 1u);
  EXPECT_EQ(d.cancel_group(nullptr), 0u);  // watches without a group are never cancelled
  w1.arm(d, p2.a, t);                      // re-arming clears cancelled()
  EXPECT_FALSE(w1.cancelled());
}

TEST(Deadlines, RearmMovesTheDeadlineAndClearsExpired) {
  asio::io_context io;
  Deadlines d(io.get_executor());
  Pair p(io);
  Watch w;
  const auto t = Clock::now() + 1h;
  w.arm(d, p.a, t);
  w.arm(d, p.a, t + 1s);  // same owner: moved, not linked twice
  EXPECT_EQ(d.armed(), 1u);
  d.expire(t);
  EXPECT_FALSE(w.expired());
  d.expire(t + 1s);
  EXPECT_TRUE(w.expired());
  Pair q(io);
  w.arm(d, q.a, t + 2s);
  EXPECT_FALSE(w.expired());
  EXPECT_EQ(d.armed(), 1u);
}

TEST(Deadlines, TheTimerEndsAPendingReadAtTheEarliestDeadline) {
  asio::io_context io;
  Deadlines d(io.get_executor());
  Pair late(io), early(io);
  Watch w_late, w_early;
  const auto start = Clock::now();
  w_late.arm(d, late.a, start + 10s);
  w_early.arm(d, early.a, start + 50ms);  // earlier than the timer waits for: it must wait less
  char byte;
  boost::system::error_code read_ec;
  Clock::time_point read_end{};
  early.a.async_read_some(asio::buffer(&byte, 1), [&](boost::system::error_code ec, std::size_t) {
    read_ec = ec;
    read_end = Clock::now();
  });
  io.run_for(2s);
  EXPECT_EQ(read_ec, asio::error::operation_aborted);
  EXPECT_TRUE(w_early.expired());
  EXPECT_GE(read_end - start, 50ms);
  EXPECT_LT(read_end - start, 1s);
  EXPECT_FALSE(w_late.expired());
  EXPECT_TRUE(late.a.is_open());
}

TEST(Deadlines, NoArmedWatchLeavesNoWorkBehind) {
  // A worker's io_context must be able to run out of work (clean shutdown) once nothing is armed.
  asio::io_context io;
  Deadlines d(io.get_executor());
  Pair p(io);
  {
    Watch w;
    w.arm(d, p.a, Clock::now() + 1h);
  }
  const auto start = Clock::now();
  io.run_for(5s);
  EXPECT_LT(Clock::now() - start, 1s) << "run() returned only when the hour-long wait was cut";
}

TEST(Deadlines, WatchesMayOutliveTheirDeadlines) {
  asio::io_context io;
  Pair p(io);
  Watch w;
  {
    Deadlines d(io.get_executor());
    w.arm(d, p.a, Clock::now() + 1h);
  }
  EXPECT_FALSE(w.armed());  // detached when the owner went away; its destructor touches nothing
}

}  // namespace
}  // namespace gw::deadline
