#pragma once
// Process-wide settings both executables make before any work.
namespace attnscope::core {

// Keeps large attention blocks in the heap instead of fresh mmaps (glibc caps its adaptive threshold at 32 MiB):
// page faults and zeroing otherwise cost a third of a long forward pass.
void configureProcess();

} // namespace attnscope::core
