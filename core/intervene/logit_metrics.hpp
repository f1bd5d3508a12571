#pragma once
// Next-token distribution metrics on host logits [rows][vocab] row-major, in double. Torch-free.
#include <cstdint>
#include <vector>

namespace attnscope::core {

// Log-softmax of each row.
std::vector<double> logSoftmaxRows(const std::vector<float>& logits, int64_t vocab);
// Mean over rows of KL(P || Q) from log-probabilities of equal shape (nats).
double meanKl(const std::vector<double>& logP, const std::vector<double>& logQ, int64_t vocab);
// Ships' divergence of one row (methods.md §5.2): sum (p + 1e-12) ln((p + 1e-12) / (q + 1e-12)).
double shipsKl(const double* logP, const double* logQ, int64_t vocab);
// Mean of -logp(row r)[next[r]] over the rows that have a next token (next.size() may be rows - 1).
double meanNll(const std::vector<double>& logP, int64_t vocab, const std::vector<int32_t>& next);
// Index of the row's largest value (the first on ties), as argmax.
int64_t argmaxRow(const float* row, int64_t vocab);
// Two-sided 95 % Student t quantile for n - 1 degrees of freedom (n >= 2).
double tQuantile95(int64_t n);

} // namespace attnscope::core
