#pragma once
// BOS/EOS ids and the special tokens encode() adds, from tokenizer.json's post_processor, tokenizer_config.json
// (bos_token, eos_token, add_bos_token, add_eos_token) and config.json (bos_token_id, eos_token_id).
#include "model/pipeline_tokenizer.hpp"

#include <nlohmann/json_fwd.hpp>

#include <filesystem>
#include <string>

namespace attnscope::core {

// tokenizer: the parsed tokenizer.json; folder: where the config files may be; file names tokenizer.json in messages.
// Sets parts.prefix, parts.suffix, parts.bosId, parts.eosId; parts.model and parts.added must be set already.
void applySpecialTokens(const nlohmann::json& tokenizer, const std::filesystem::path& folder, const std::string& file,
                        PipelineParts& parts);

} // namespace attnscope::core
