#pragma once
// Perceptual colormaps as data: value in [0, 1] -> linear RGB in [0, 1]. Plain C++ (no Qt, ImGui, GL or core), so
// that the figures and the GL views colour a cell the same way. Values outside [0, 1] are clamped; NaN maps to 0.
#include <algorithm>
#include <array>
#include <cmath>
#include <optional>
#include <string>
#include <string_view>

namespace attnscope::views {

enum class Colormap { Viridis, Magma, Inferno, Plasma, Gray };

struct Rgb {
    float r = 0, g = 0, b = 0;
};

namespace detail {
// Degree-6 polynomial fits of matplotlib's maps (Matt Zucker's public-domain fits; within about 5/255 of matplotlib's
// tables, the largest errors at the ends):
// c[i] is the coefficient of t^i for r, g, b.
using Poly = std::array<std::array<float, 3>, 7>;
inline constexpr Poly kViridis{{{0.2777273272f, 0.0054073445f, 0.3340998053f},
                                {0.1050930431f, 1.4046135299f, 1.3845901626f},
                                {-0.3308618287f, 0.2148475595f, 0.0950951630f},
                                {-4.6342304990f, -5.7991009734f, -19.3324409563f},
                                {6.2282699363f, 14.1799333668f, 56.6905526007f},
                                {4.7763849977f, -13.7451453777f, -65.3530326334f},
                                {-5.4354558559f, 4.6458526122f, 26.3124352496f}}};
inline constexpr Poly kMagma{{{-0.0021364851f, -0.0007496551f, -0.0053861279f},
                              {0.2516605407f, 0.6775232437f, 2.4940265993f},
                              {8.3537172792f, -3.5777195150f, 0.3144679030f},
                              {-27.6687330858f, 14.2647307810f, -13.6492131881f},
                              {52.1761398123f, -27.9436060717f, 12.9441694424f},
                              {-50.7685253647f, 29.0465828213f, 4.2341529938f},
                              {18.6557050659f, -11.4897735200f, -5.6019615087f}}};
inline constexpr Poly kInferno{{{0.0002189404f, 0.0016510046f, -0.0194808984f},
                                {0.1065134195f, 0.5639564368f, 3.9327123889f},
                                {11.6024930825f, -3.9728539657f, -15.9423941063f},
                                {-41.7039961314f, 17.4363988821f, 44.3541451987f},
                                {77.1629356994f, -33.4023589421f, -81.8073092574f},
                                {-71.3194282450f, 32.6260642640f, 73.2095198580f},
                                {25.1311262248f, -12.2426689524f, -23.0703250029f}}};
inline constexpr Poly kPlasma{{{0.0587323439f, 0.0233367089f, 0.5433401827f},
                               {2.1765146342f, 0.2383834171f, 0.7539604600f},
                               {-2.6894604765f, -7.4558511357f, 3.1107999397f},
                               {6.1303483459f, 42.3461881477f, -28.5188546532f},
                               {-11.1074361906f, -82.6663110943f, 60.1398476742f},
                               {10.0230655765f, 71.4136177010f, -54.0721865556f},
                               {-3.6587138428f, -22.9315346546f, 18.1919077854f}}};

inline Rgb evalPoly(const Poly& c, float t) {
    float v[3];
    for (int k = 0; k < 3; ++k) {
        float acc = c[6][k];
        for (int i = 5; i >= 0; --i)
            acc = acc * t + c[size_t(i)][k];
        v[k] = std::clamp(acc, 0.0f, 1.0f);
    }
    return {v[0], v[1], v[2]};
}
} // namespace detail

inline constexpr std::array<std::string_view, 5> kColormapNames{"viridis", "magma", "inferno", "plasma", "gray"};

// "viridis", "magma", "inferno", "plasma", "gray"; nullopt for anything else.
inline std::optional<Colormap> colormapFromName(std::string_view name) {
    for (size_t i = 0; i < kColormapNames.size(); ++i)
        if (kColormapNames[i] == name) return Colormap(i);
    return std::nullopt;
}

inline std::string_view colormapName(Colormap map) {
    return kColormapNames[size_t(map)];
}

inline Rgb colormapRgb(Colormap map, float t) {
    t = std::isnan(t) ? 0.0f : std::clamp(t, 0.0f, 1.0f);
    switch (map) {
    case Colormap::Viridis:
        return detail::evalPoly(detail::kViridis, t);
    case Colormap::Magma:
        return detail::evalPoly(detail::kMagma, t);
    case Colormap::Inferno:
        return detail::evalPoly(detail::kInferno, t);
    case Colormap::Plasma:
        return detail::evalPoly(detail::kPlasma, t);
    case Colormap::Gray:
        return {t, t, t};
    }
    return {t, t, t};
}

// 8-bit channels, rounded: the exact colour a figure or texture gets for t.
inline std::array<int, 3> colormapRgb8(Colormap map, float t) {
    const Rgb c = colormapRgb(map, t);
    return {int(std::lround(c.r * 255.0f)), int(std::lround(c.g * 255.0f)), int(std::lround(c.b * 255.0f))};
}

// Diverging map for differences (blue at 0, light grey at 0.5, red at 1): three anchors close to matplotlib's
// "coolwarm" ends and a light neutral centre, linear between them. NaN maps to the centre.
inline Rgb divergingColour(double t) {
    static constexpr float kLo[3] = {0.230f, 0.299f, 0.754f}, kMid[3] = {0.865f, 0.865f, 0.865f},
                           kHi[3] = {0.706f, 0.016f, 0.150f};
    t = std::isnan(t) ? 0.5 : std::clamp(t, 0.0, 1.0);
    const float* a = t < 0.5 ? kLo : kMid;
    const float* b = t < 0.5 ? kMid : kHi;
    const float u = float(t < 0.5 ? t * 2 : t * 2 - 1);
    return {a[0] + (b[0] - a[0]) * u, a[1] + (b[1] - a[1]) * u, a[2] + (b[2] - a[2]) * u};
}

inline std::array<int, 3> divergingRgb8(double t) {
    const Rgb c = divergingColour(t);
    return {int(std::lround(c.r * 255.0f)), int(std::lround(c.g * 255.0f)), int(std::lround(c.b * 255.0f))};
}

} // namespace attnscope::views
