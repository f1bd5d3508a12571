#pragma once
// One numeric array read from a foreign file, converted to float32: row-major, outermost axis first (NumPy order).
#include <cstdint>
#include <string>
#include <vector>

namespace attnscope::importers {

struct ImportedArray {
    std::string origin;          // "file" or "file:entry", for error messages
    std::string name;            // the array's name inside its file ("" for a lone .npy)
    std::vector<int64_t> shape;  // outermost axis first
    std::vector<float> values;   // product(shape) values
    bool floating = true;        // false for integer arrays (kept only so callers can say what they skipped)

    int64_t numel() const {
        int64_t n = 1;
        for (int64_t d : shape)
            n *= d;
        return n;
    }
};

// "[2, 4, 37]".
std::string shapeText(const std::vector<int64_t>& shape);

// Orders names so that embedded numbers compare as numbers ("layer.9" before "layer.10").
bool naturalLess(const std::string& a, const std::string& b);

} // namespace attnscope::importers
