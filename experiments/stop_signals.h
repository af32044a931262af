// Graceful stop for long runs. While a StopSignals is alive, the first SIGINT or SIGTERM only records a
// request: the training loop finishes its step, writes a checkpoint of that exact point and throws
// Interrupted, which the CLI turns into exit status 128 + signal (130 / 143). A second signal ends the
// process at once (the checkpoint being written, if any, is atomic, so the previous one stays intact).
#pragma once
#include <csignal>

namespace mg::experiments {

class StopSignals {
 public:
  StopSignals();   // installs the handlers (and clears an earlier request)
  ~StopSignals();  // restores the previous handlers
  StopSignals(const StopSignals&) = delete;
  StopSignals& operator=(const StopSignals&) = delete;

  int requested() const;  // the signal received, or 0

 private:
  struct sigaction previous_int_ {}, previous_term_ {};
};

// Thrown after a requested stop has been checkpointed.
struct Interrupted {
  int signal;
  int exit_status() const { return 128 + signal; }
};

}  // namespace mg::experiments
