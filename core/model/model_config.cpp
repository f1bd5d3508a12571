#include "model/model_config.hpp"

namespace attnscope::core {

const char* architectureName(Architecture a) {
    switch (a) {
    case Architecture::Llama:
        return "llama";
    case Architecture::Gpt2:
        return "gpt2";
    }
    return "?";
}

} // namespace attnscope::core
