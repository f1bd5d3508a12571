// resamplingAnalysis (declared in jobs/resampling_job.hpp): the report as the /analysis/anchors_resampling result.
#include "jobs/resampling_job.hpp"

#include <cmath>

namespace attnscope::core {

namespace {

std::vector<double> column(const std::vector<ChunkImportance>& m, double ChunkImportance::*field) {
    std::vector<double> out;
    for (const ChunkImportance& c : m)
        out.push_back(c.*field);
    return out;
}

// Model output may decode to a NUL byte, which the run file's strings cannot hold.
std::string withoutNul(std::string s) {
    std::erase(s, '\0');
    return s;
}

} // namespace

AnalysisResult resamplingAnalysis(const ResamplingReport& report) {
    const ResamplingOptions& o = report.options;
    const int64_t N = int64_t(report.chunks.size()), R = o.rollouts;
    AnalysisResult r;
    r.name = "anchors_resampling";
    r.source = "methods.md §4.2, §4.3 (docs/methods.md 8.4); Bogdan, Macar, Nanda, Conmy, Thought Anchors (2025), "
               "generate_rollouts.py, analyze_rollouts.py; similarity from the model's own mean-pooled final hidden "
               "states instead of all-MiniLM-L6-v2";
    r.set("rollouts", R).set("temperature", o.temperature).set("top_p", o.topP);
    r.set("max_new_tokens", o.maxNewTokens).set("seed", int64_t(o.seed));
    r.set("answer_regex", withoutNul(o.answerRegex)).set("expected_answer", withoutNul(report.trace.expectedAnswer));
    r.set("similarity_threshold", o.similarityThreshold).set("kl_mode", std::string("answer_distribution"));
    r.set("kl_alpha", ImportanceOptions{}.alpha)
        .set("use_similar_chunks", int64_t(ImportanceOptions{}.useSimilarChunks));
    r.set("embedding", std::string("mean over the sentence's tokens of the last layer's residual stream after the "
                                   "final norm, each sentence encoded alone"));
    r.set("seconds", report.seconds).set("embedding_forwards", report.embeddingForwards);

    std::vector<std::string> texts;
    for (const std::string& c : report.trace.chunks)
        texts.push_back(withoutNul(c));
    r.add("sentence_text", {N}, texts, "sentence");
    const auto& m = report.importance;
    r.add("accuracy", {N}, column(m, &ChunkImportance::accuracy), "sentence");
    r.add("resampling_importance_accuracy", {N}, column(m, &ChunkImportance::resamplingAccuracy), "sentence");
    r.add("resampling_importance_kl", {N}, column(m, &ChunkImportance::resamplingKl), "sentence");
    r.add("counterfactual_importance_accuracy", {N}, column(m, &ChunkImportance::counterfactualAccuracy), "sentence");
    r.add("counterfactual_importance_kl", {N}, column(m, &ChunkImportance::counterfactualKl), "sentence");
    r.add("different_trajectories_fraction", {N}, column(m, &ChunkImportance::differentTrajectoriesFraction),
          "sentence");
    r.add("overdeterminedness", {N}, column(m, &ChunkImportance::overdeterminedness), "sentence");
    std::vector<int32_t> counts;
    for (const ChunkImportance& c : m)
        counts.insert(counts.end(),
                      {int32_t(c.rollouts), int32_t(c.answered), int32_t(c.scored), int32_t(c.correctCount)});
    r.add("counts", {N, 4}, counts, "sentence,rollouts_answered_scored_correct");

    std::vector<std::string> resampled, answers;
    std::vector<int32_t> correct, generated;
    std::vector<double> similarity;
    for (int64_t i = 0; i < N; ++i)
        for (int64_t k = 0; k < R; ++k) {
            const AnswerRollout& x = report.chunks[size_t(i)].rollouts[size_t(k)];
            resampled.push_back(withoutNul(x.resampled));
            answers.push_back(withoutNul(x.answer));
            correct.push_back(x.correct ? int32_t(*x.correct) : -1);
            similarity.push_back(x.similarity);
            generated.push_back(int32_t(report.generatedTokens[size_t(i)][size_t(k)]));
        }
    // String datasets are one-dimensional in the run format: rollout r of sentence i is entry i * R + r.
    r.add("rollout_resampled", {N * R}, resampled, "sentence_rollout");
    r.add("rollout_answer", {N * R}, answers, "sentence_rollout");
    r.add("rollout_correct", {N, R}, correct, "sentence,rollout");
    r.add("rollout_similarity", {N, R}, similarity, "sentence,rollout");
    r.add("rollout_tokens", {N, R}, generated, "sentence,rollout");
    if (o.forceAnswer.empty()) return r;

    r.set("force_answer", withoutNul(o.forceAnswer));
    r.add("forced_answer_accuracy", {N}, column(m, &ChunkImportance::forcedAnswerAccuracy), "sentence");
    r.add("forced_importance_accuracy", {N}, column(m, &ChunkImportance::forcedAccuracy), "sentence");
    r.add("forced_importance_kl", {N}, column(m, &ChunkImportance::forcedKl), "sentence");
    std::vector<std::string> forcedAnswers;
    std::vector<int32_t> forcedCorrect, forcedTokens;
    for (int64_t i = 0; i < N; ++i)
        for (int64_t k = 0; k < R; ++k) {
            const AnswerRollout& x = report.chunks[size_t(i)].forced[size_t(k)];
            forcedAnswers.push_back(withoutNul(x.answer));
            forcedCorrect.push_back(x.correct ? int32_t(*x.correct) : -1);
            forcedTokens.push_back(int32_t(report.forcedTokens[size_t(i)][size_t(k)]));
        }
    r.add("forced_rollout_answer", {N * R}, forcedAnswers, "sentence_rollout");
    r.add("forced_rollout_correct", {N, R}, forcedCorrect, "sentence,rollout");
    r.add("forced_rollout_tokens", {N, R}, forcedTokens, "sentence,rollout");
    return r;
}

} // namespace attnscope::core
