# Shared by scripts/* and .ci/run: one persistent cargo target directory outside the clone,
# so RocksDB's C++ (about 20 minutes on two cores) is compiled once per machine, not per clone.
export CARGO_TARGET_DIR="${CARGO_TARGET_DIR:-${XDG_CACHE_HOME:-$HOME/.cache}/credx/target}"
export CARGO_TERM_COLOR="${CARGO_TERM_COLOR:-never}"
# Everything builds in one profile (release) so nothing is compiled twice.
CREDX_PROFILE_FLAGS=(--release)
