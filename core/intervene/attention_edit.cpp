#include "intervene/attention_edit.hpp"

#include "errors.hpp"
#include "model/model_config.hpp"

#include <nlohmann/json.hpp>

#include <algorithm>
#include <fstream>
#include <sstream>

namespace attnscope::core {

namespace {

using nlohmann::json;

constexpr int kEditsVersion = 1;

bool parseInt(const std::string& s, int64_t& out) {
    if (s.empty() || s.size() > 9 || !std::all_of(s.begin(), s.end(), [](char c) { return c >= '0' && c <= '9'; }))
        return false;
    out = std::stoll(s);
    return true;
}

std::string headText(int64_t layer, int64_t head) { return std::to_string(layer) + "." + std::to_string(head); }

// Any problem found while reading edits JSON; turned into one FormatError naming the origin.
struct Malformed {
    std::string what;
};

const json& field(const json& j, const char* name) {
    if (!j.contains(name)) throw Malformed{std::string("an edit lacks its '") + name + "' field"};
    return j.at(name);
}

std::vector<HeadRef> headsFromJson(const json& j) {
    std::vector<HeadRef> heads;
    if (!j.contains("heads")) return heads;
    if (!j.at("heads").is_array()) throw Malformed{"'heads' is not a list of \"L.H\" strings"};
    for (const json& h : j.at("heads")) {
        if (!h.is_string()) throw Malformed{"'heads' is not a list of \"L.H\" strings"};
        try {
            heads.push_back(parseHeadRef(h.get<std::string>()));
        } catch (const ArgumentError&) {
            throw Malformed{"head '" + h.get<std::string>() + "' is not of the form L.H, L.kvH or L.*"};
        }
    }
    return heads;
}

json headsToJson(const std::vector<HeadRef>& heads) {
    json a = json::array();
    for (const HeadRef& h : heads) a.push_back(formatHeadRef(h));
    return a;
}

double number(const json& j, const char* name, double fallback) {
    if (!j.contains(name)) return fallback;
    if (!j.at(name).is_number()) throw Malformed{std::string("'") + name + "' is not a number"};
    return j.at(name).get<double>();
}

AttentionEdit editFromJson(const json& j) {
    if (!j.is_object()) throw Malformed{"an edit is not a JSON object"};
    const json& type = field(j, "type");
    if (!type.is_string()) throw Malformed{"an edit's 'type' is not a string"};
    const std::string t = type.get<std::string>();
    if (t == "ablate") {
        HeadAblation a;
        const json& m = field(j, "method");
        if (!m.is_string()) throw Malformed{"an ablation's 'method' is not a string"};
        try {
            a.method = parseAblationMethod(m.get<std::string>());
        } catch (const ArgumentError&) {
            throw Malformed{"unknown ablation method '" + m.get<std::string>() + "'"};
        }
        a.heads = headsFromJson(j);
        a.epsilon = number(j, "epsilon", a.epsilon);
        if (j.contains("reference_ids")) {
            if (!j.at("reference_ids").is_array()) throw Malformed{"'reference_ids' is not a list of token ids"};
            for (const json& id : j.at("reference_ids")) {
                if (!id.is_number_integer()) throw Malformed{"'reference_ids' is not a list of token ids"};
                a.referenceIds.push_back(id.get<int32_t>());
            }
        }
        if (j.contains("reference_text")) {
            if (!j.at("reference_text").is_string()) throw Malformed{"'reference_text' is not a string"};
            a.referenceText = j.at("reference_text").get<std::string>();
        }
        return a;
    }
    if (t == "act") {
        ActCalibration c;
        c.heads = headsFromJson(j);
        c.threshold = number(j, "threshold", c.threshold);
        c.beta = number(j, "beta", c.beta);
        return c;
    }
    if (t == "suppress") {
        SpanSuppression s;
        const json& b = field(j, "begin");
        const json& e = field(j, "end");
        if (!b.is_number_integer() || !e.is_number_integer())
            throw Malformed{"a suppression's 'begin' and 'end' are not integers"};
        s.begin = b.get<int64_t>();
        s.end = e.get<int64_t>();
        s.heads = headsFromJson(j);
        return s;
    }
    throw Malformed{"unknown edit type '" + t + "' (use ablate, act or suppress)"};
}

} // namespace

AblationMethod parseAblationMethod(const std::string& s) {
    if (s == "zero") return AblationMethod::Zero;
    if (s == "mean") return AblationMethod::Mean;
    if (s == "resample") return AblationMethod::Resample;
    if (s == "uniform") return AblationMethod::Uniform;
    if (s == "scale") return AblationMethod::Scale;
    throw ArgumentError("Unknown ablation method '" + s + "': use zero, mean, resample, uniform or scale.");
}

const char* ablationMethodName(AblationMethod m) {
    switch (m) {
    case AblationMethod::Zero: return "zero";
    case AblationMethod::Mean: return "mean";
    case AblationMethod::Resample: return "resample";
    case AblationMethod::Uniform: return "uniform";
    case AblationMethod::Scale: return "scale";
    }
    return "zero";
}

HeadRef parseHeadRef(const std::string& s) {
    const auto dot = s.find('.');
    HeadRef h;
    const std::string layer = dot == std::string::npos ? s : s.substr(0, dot);
    std::string head = dot == std::string::npos ? std::string() : s.substr(dot + 1);
    if (head.rfind("kv", 0) == 0) {
        h.kv = true;
        head = head.substr(2);
    }
    const bool ok = parseInt(layer, h.layer) && (head == "*" ? !h.kv : parseInt(head, h.head));
    if (!ok) throw ArgumentError("Head '" + s + "' is not of the form L.H, L.kvH or L.* (e.g. 2.3).");
    return h;
}

std::string formatHeadRef(const HeadRef& h) {
    if (h.head < 0) return std::to_string(h.layer) + ".*";
    return std::to_string(h.layer) + (h.kv ? ".kv" : ".") + std::to_string(h.head);
}

std::vector<HeadRef> parseHeadList(const std::string& s) {
    std::vector<HeadRef> heads;
    std::stringstream ss(s);
    std::string item;
    while (std::getline(ss, item, ','))
        if (!item.empty()) heads.push_back(parseHeadRef(item));
    return heads;
}

std::string formatHeadList(const std::vector<HeadRef>& heads) {
    std::string s;
    for (const HeadRef& h : heads) {
        if (!s.empty()) s += ',';
        s += formatHeadRef(h);
    }
    return s;
}

std::vector<std::pair<int64_t, int64_t>> expandHeads(const std::vector<HeadRef>& heads, const ModelConfig& c) {
    std::vector<std::pair<int64_t, int64_t>> out;
    const int64_t group = c.nKvHeads > 0 ? c.nHeads / c.nKvHeads : 1;
    for (const HeadRef& h : heads) {
        const int64_t limit = h.kv ? c.nKvHeads : c.nHeads;
        if (h.layer < 0 || h.layer >= c.nLayers || h.head >= limit)
            throw ArgumentError("Head " + formatHeadRef(h) + " is outside the model: it has " +
                                std::to_string(c.nLayers) + " layers of " + std::to_string(c.nHeads) + " heads (" +
                                std::to_string(c.nKvHeads) + " KV heads).");
        if (h.head < 0) {
            for (int64_t q = 0; q < c.nHeads; ++q) out.emplace_back(h.layer, q);
        } else if (h.kv) {
            for (int64_t q = h.head * group; q < (h.head + 1) * group; ++q) out.emplace_back(h.layer, q);
        } else {
            out.emplace_back(h.layer, h.head);
        }
    }
    std::sort(out.begin(), out.end());
    out.erase(std::unique(out.begin(), out.end()), out.end());
    return out;
}

std::vector<std::pair<int64_t, int64_t>> actHeads(const ActCalibration& act, const ModelConfig& c) {
    if (!act.heads.empty()) return expandHeads(act.heads, c);
    std::vector<std::pair<int64_t, int64_t>> out;
    for (int64_t l = 2; l <= c.nLayers - 2; ++l)
        for (int64_t h = 0; h < c.nHeads; ++h) out.emplace_back(l, h);
    return out;
}

void validateEditSet(const EditSet& set, const ModelConfig& c) {
    for (const AttentionEdit& edit : set.edits) {
        if (const auto* a = std::get_if<HeadAblation>(&edit)) {
            if (a->heads.empty()) throw ArgumentError("A head ablation names no heads; give at least one as L.H.");
            expandHeads(a->heads, c);
            if (!(a->epsilon >= 0)) throw ArgumentError("An ablation's epsilon must be 0 or more.");
        } else if (const auto* act = std::get_if<ActCalibration>(&edit)) {
            expandHeads(act->heads, c);
            if (!(act->beta >= 0 && act->beta <= 1))
                throw ArgumentError("ACT's beta must lie in [0, 1]; " + std::to_string(act->beta) + " was given.");
            if (!(act->threshold >= 0 && act->threshold < 1))
                throw ArgumentError("ACT's threshold must lie in [0, 1); " + std::to_string(act->threshold) +
                                    " was given.");
        } else if (const auto* s = std::get_if<SpanSuppression>(&edit)) {
            expandHeads(s->heads, c);
            if (s->begin < 0 || s->end < s->begin)
                throw ArgumentError("A suppressed span must satisfy 0 <= begin <= end; [" + std::to_string(s->begin) +
                                    ", " + std::to_string(s->end) + ") was given.");
        }
    }
}

std::string editSetToJson(const EditSet& set) {
    json edits = json::array();
    for (const AttentionEdit& edit : set.edits) {
        json j;
        if (const auto* a = std::get_if<HeadAblation>(&edit)) {
            j["type"] = "ablate";
            j["method"] = ablationMethodName(a->method);
            j["heads"] = headsToJson(a->heads);
            if (a->method == AblationMethod::Scale) j["epsilon"] = a->epsilon;
            if (!a->referenceIds.empty()) j["reference_ids"] = a->referenceIds;
            if (!a->referenceText.empty()) j["reference_text"] = a->referenceText;
        } else if (const auto* act = std::get_if<ActCalibration>(&edit)) {
            j["type"] = "act";
            j["heads"] = headsToJson(act->heads);
            j["threshold"] = act->threshold;
            j["beta"] = act->beta;
        } else if (const auto* s = std::get_if<SpanSuppression>(&edit)) {
            j["type"] = "suppress";
            j["begin"] = s->begin;
            j["end"] = s->end;
            j["heads"] = headsToJson(s->heads);
        }
        edits.push_back(std::move(j));
    }
    return json{{"version", kEditsVersion}, {"edits", edits}}.dump();
}

EditSet editSetFromJson(const std::string& text, const std::string& origin) {
    try {
        const json root = json::parse(text);
        if (!root.is_object() || !root.contains("edits") || !root.at("edits").is_array())
            throw Malformed{"the top level is not an object with an 'edits' list"};
        if (root.contains("version") && (!root.at("version").is_number_integer() ||
                                         root.at("version").get<int64_t>() > kEditsVersion))
            throw Malformed{"its version is newer than this build reads (" + std::to_string(kEditsVersion) + ")"};
        EditSet set;
        for (const json& e : root.at("edits")) set.edits.push_back(editFromJson(e));
        return set;
    } catch (const Malformed& m) {
        throw FormatError("Edits in '" + origin + "' are malformed: " + m.what + ".");
    } catch (const json::exception& e) {
        // nlohmann's messages span several clauses; its byte position is the useful part.
        const auto* p = dynamic_cast<const json::parse_error*>(&e);
        throw FormatError("Edits in '" + origin + "' are not valid JSON" +
                          (p ? " (error at byte " + std::to_string(p->byte) + ")." : "."));
    }
}

EditSet readEditSet(const std::filesystem::path& path) {
    std::ifstream in(path, std::ios::binary);
    if (!in) throw FileError("Cannot read the edits file '" + path.string() + "'.");
    std::ostringstream text;
    text << in.rdbuf();
    return editSetFromJson(text.str(), path.string());
}

std::string describeEdits(const EditSet& set) {
    std::string out;
    for (const AttentionEdit& edit : set.edits) {
        if (!out.empty()) out += "; ";
        if (const auto* a = std::get_if<HeadAblation>(&edit)) {
            out += std::string(ablationMethodName(a->method)) + " ablation of " + formatHeadList(a->heads);
        } else if (const auto* act = std::get_if<ActCalibration>(&edit)) {
            out += "ACT (beta " + std::to_string(act->beta).substr(0, 4) + ", threshold " +
                   std::to_string(act->threshold).substr(0, 4) + ") on " +
                   (act->heads.empty() ? std::string("layers 2..L-2") : formatHeadList(act->heads));
        } else if (const auto* s = std::get_if<SpanSuppression>(&edit)) {
            out += "suppression of keys [" + std::to_string(s->begin) + ", " + std::to_string(s->end) + ") in " +
                   (s->heads.empty() ? std::string("every head") : formatHeadList(s->heads));
        }
    }
    return out.empty() ? "no edits" : out;
}

} // namespace attnscope::core
