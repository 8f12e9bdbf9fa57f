// fuzz/replay_main.cc — corpus replay driver for the fuzz targets.
//
// Links with one fuzz target (LLVMFuzzerTestOneInput) instead of libFuzzer,
// so `bazel test` replays the target's corpus with any compiler and in any
// configuration:
//
//   <target>_replay [DIR_OR_FILE...]
//
// Every regular file under each directory (not recursive) and every file
// named is run once, in name order. The test fails when an argument is
// missing, when no input was found at all (a corpus must not silently
// vanish) and, of course, when an input crashes: the target aborts with the
// invariant it saw violated, after this driver printed the input's path.
//
// $GMP_REPLAY_JOBS (default 1) worker processes share the inputs, input i
// going to worker i mod jobs, each running its share in order: a replay
// spends much of its time in the programs' sleeps and timed waits, so a few
// workers finish sooner even on a machine with few cores. A worker is forked
// before any input runs, so each starts from the same fresh process state
// (no runtime has run yet). When a worker dies, the driver names the input
// it was running and fails with that worker's status.
#include <dirent.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <csignal>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <string>
#include <utility>
#include <vector>

extern "C" int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);
extern "C" __attribute__((weak)) int LLVMFuzzerInitialize(int *argc,
                                                          char ***argv);

namespace {

bool ReadFile(const std::string &path, std::vector<uint8_t> *out) {
  FILE *f = std::fopen(path.c_str(), "rb");
  if (f == nullptr) return false;
  out->clear();
  uint8_t buf[4096];
  size_t n;
  while ((n = std::fread(buf, 1, sizeof(buf), f)) > 0) {
    out->insert(out->end(), buf, buf + n);
  }
  bool ok = !std::ferror(f);
  std::fclose(f);
  return ok;
}

// Collect appends `path` (a file) or the regular files in it (a directory).
bool Collect(const std::string &path, std::vector<std::string> *files) {
  struct stat st;
  if (::stat(path.c_str(), &st) != 0) {
    std::fprintf(stderr, "replay: %s: %s\n", path.c_str(),
                 std::strerror(errno));
    return false;
  }
  if (!S_ISDIR(st.st_mode)) {
    files->push_back(path);
    return true;
  }
  DIR *d = ::opendir(path.c_str());
  if (d == nullptr) {
    std::fprintf(stderr, "replay: %s: %s\n", path.c_str(),
                 std::strerror(errno));
    return false;
  }
  std::vector<std::string> found;
  while (struct dirent *e = ::readdir(d)) {
    if (e->d_name[0] == '.') continue;
    std::string p = path + "/" + e->d_name;
    struct stat fst;
    if (::stat(p.c_str(), &fst) == 0 && S_ISREG(fst.st_mode)) {
      found.push_back(p);
    }
  }
  ::closedir(d);
  std::sort(found.begin(), found.end());
  files->insert(files->end(), found.begin(), found.end());
  return true;
}

// RunOne runs one input. False when it cannot be read.
bool RunOne(const std::string &f) {
  std::vector<uint8_t> data;
  if (!ReadFile(f, &data)) {
    std::fprintf(stderr, "replay: cannot read %s\n", f.c_str());
    return false;
  }
  std::fprintf(stderr, "replay: %s (%zu bytes)\n", f.c_str(), data.size());
  // A copy of exactly the input's size, so ASan sees reads past its end.
  uint8_t *copy = static_cast<uint8_t *>(std::malloc(data.size() + 1));
  if (!data.empty()) std::memcpy(copy, data.data(), data.size());
  LLVMFuzzerTestOneInput(copy, data.size());
  std::free(copy);
  return true;
}

// RunShare runs inputs worker, worker + jobs, ... in order; `current`, when
// not null, is where it records the index of the input it is running (for
// the parent to name the one a crash interrupted).
bool RunShare(const std::vector<std::string> &files, int worker, int jobs,
              volatile int64_t *current) {
  for (size_t i = worker; i < files.size(); i += jobs) {
    if (current != nullptr) *current = static_cast<int64_t>(i);
    if (!RunOne(files[i])) return false;
  }
  return true;
}

// ReplayJobs is $GMP_REPLAY_JOBS (1 to 64), at most one per input.
int ReplayJobs(size_t inputs) {
  const char *env = std::getenv("GMP_REPLAY_JOBS");
  int jobs = 1;
  if (env != nullptr && *env != '\0') {
    char *end = nullptr;
    const long v = std::strtol(env, &end, 10);
    if (*end != '\0' || v < 1 || v > 64) {
      std::fprintf(stderr,
                   "replay: GMP_REPLAY_JOBS=%s: expected a number of worker "
                   "processes from 1 to 64\n",
                   env);
      std::exit(2);
    }
    jobs = static_cast<int>(v);
  }
  return static_cast<int>(std::min<size_t>(jobs, inputs));
}

// RunWorkers forks `jobs` workers over `files` and waits for all of them.
// Returns 0 when every worker passed, else the exit code of the first that
// failed (128 + signal for one killed by a signal), after naming its input.
int RunWorkers(const std::vector<std::string> &files, int jobs) {
  // One slot per worker, shared with it: the input it runs now.
  auto *current = static_cast<volatile int64_t *>(
      mmap(nullptr, sizeof(int64_t) * jobs, PROT_READ | PROT_WRITE,
           MAP_SHARED | MAP_ANONYMOUS, -1, 0));
  if (current == MAP_FAILED) {
    std::perror("replay: mmap");
    return 2;
  }
  std::fflush(stderr);
  std::vector<pid_t> pids;
  for (int w = 0; w < jobs; ++w) {
    current[w] = -1;
    const pid_t pid = fork();
    if (pid < 0) {
      std::perror("replay: fork");
      for (pid_t p : pids) kill(p, SIGKILL);
      return 2;
    }
    if (pid == 0) _exit(RunShare(files, w, jobs, current + w) ? 0 : 2);
    pids.push_back(pid);
  }
  int rc = 0;
  for (size_t done = 0; done < pids.size(); ++done) {
    int status = 0;
    const pid_t pid = wait(&status);
    if (pid < 0) {
      std::perror("replay: wait");
      return 2;
    }
    if (WIFEXITED(status) && WEXITSTATUS(status) == 0) continue;
    const int w = static_cast<int>(std::find(pids.begin(), pids.end(), pid) -
                                   pids.begin());
    const int code =
        WIFEXITED(status) ? WEXITSTATUS(status) : 128 + WTERMSIG(status);
    const int64_t i = w < jobs ? current[w] : -1;
    std::fprintf(stderr, "replay: worker %d failed (%s %d) on %s\n", w,
                 WIFEXITED(status) ? "exit" : "signal",
                 WIFEXITED(status) ? WEXITSTATUS(status) : WTERMSIG(status),
                 i >= 0 ? files[i].c_str() : "(no input yet)");
    if (rc == 0) rc = code;
  }
  return rc;
}

}  // namespace

int main(int argc, char **argv) {
  if (LLVMFuzzerInitialize != nullptr) LLVMFuzzerInitialize(&argc, &argv);
  if (argc < 2) {
    std::fprintf(stderr, "usage: %s CORPUS_DIR_OR_FILE...\n", argv[0]);
    return 2;
  }
  std::vector<std::string> files;
  for (int i = 1; i < argc; ++i) {
    if (!Collect(argv[i], &files)) return 2;
  }
  if (files.empty()) {
    std::fprintf(stderr, "replay: no inputs found in the corpus\n");
    return 2;
  }
  const int jobs = ReplayJobs(files.size());
  if (jobs == 1) {
    if (!RunShare(files, 0, 1, nullptr)) return 2;
  } else if (int rc = RunWorkers(files, jobs); rc != 0) {
    return rc;
  }
  std::fprintf(stderr, "replay: %zu inputs passed\n", files.size());
  return 0;
}
