// The processes of this run: one, or the ranks of an MPI job when mpirun started it (and mixgrad was built
// with MPI; see README → Scale-out). main() calls start_job first and end_job last; a failure on any rank
// ends the whole job (abort_job), so no rank waits for a rank that is gone.
#pragma once
#include <cstdint>
#include <memory>
#include <string>

#include "nn/distributed/collective.h"

namespace mg::experiments {

void start_job(int& argc, char**& argv);
void end_job();
[[noreturn]] void abort_job(int status);  // ends every rank: MPI_Abort, or exit() for one process

const nn::Collective& job();  // this job's ranks (single_process() without mpirun)

// The ranks of job() that pass the same `group` (>= 0), as a job of their own ranked in job() order; nullptr
// on a rank that passes -1 (it joins no group). Collective over job(): every rank calls it at the same point.
std::shared_ptr<const nn::Collective> split_job(int group);
bool is_root();               // rank 0: the one that writes files and progress
bool built_with_mpi();

// "rank 1 of 2: " under mpirun, "" for one process: the prefix of messages, so a log names the rank.
std::string rank_prefix();

// Whether `flag` is true on any of `ranks` (a collective; the flag itself for one process). Ranks use it to
// agree on stopping and checkpointing at the same step.
bool on_any_rank(const nn::Collective& ranks, bool flag);
// Waits until every one of `ranks` gets here.
void barrier(const nn::Collective& ranks);

// Throws unless every one of `ranks` passes the same value, naming `what` and the first rank that differs
// from rank 0 (e.g. ranks started with different flags, or with different data files).
void require_same_on_every_rank(const nn::Collective& ranks, const std::string& what, uint64_t value);

// FNV-1a over bytes, for require_same_on_every_rank.
uint64_t fnv1a(const void* data, std::size_t size, uint64_t hash = 0xcbf29ce484222325ull);

}  // namespace mg::experiments
