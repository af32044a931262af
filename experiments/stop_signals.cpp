#include "experiments/stop_signals.h"

#include <unistd.h>

namespace mg::experiments {
namespace {

volatile std::sig_atomic_t g_requested = 0;

void on_stop_signal(int signal) {
  if (g_requested != 0) _exit(128 + signal);  // the second signal: stop now
  g_requested = signal;
  static const char kMessage[] =
      "\nmixgrad: stopping after the current step and writing a checkpoint (signal again to stop at once)\n";
  const ssize_t written = ::write(STDERR_FILENO, kMessage, sizeof kMessage - 1);  // async-signal-safe
  (void)written;
}

}  // namespace

StopSignals::StopSignals() {
  g_requested = 0;
  struct sigaction action {};
  action.sa_handler = on_stop_signal;
  sigemptyset(&action.sa_mask);
  action.sa_flags = SA_RESTART;  // blocking reads and writes resume; the loop polls requested()
  sigaction(SIGINT, &action, &previous_int_);
  sigaction(SIGTERM, &action, &previous_term_);
}

StopSignals::~StopSignals() {
  sigaction(SIGINT, &previous_int_, nullptr);
  sigaction(SIGTERM, &previous_term_, nullptr);
}

int StopSignals::requested() const { return g_requested; }

}  // namespace mg::experiments
