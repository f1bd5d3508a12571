#include "tile_loader.hpp"

#include "thread_priority.hpp"

#include "errors.hpp"

#include <algorithm>
#include <exception>
#include <memory>
#include <utility>

namespace attnscope::views {

TileLoader::TileLoader(std::filesystem::path path, size_t cacheBytes)
    : m_path(std::move(path)), m_cacheBytes(cacheBytes), m_thread([this] { run(); }) {}

TileLoader::~TileLoader() {
    {
        std::lock_guard lock(m_mutex);
        m_stop = true;
    }
    m_wake.notify_all();
    if (m_thread.joinable()) m_thread.join();
}

int TileLoader::addClient() {
    std::lock_guard lock(m_mutex);
    const int id = m_nextClient++;
    m_clients[id];
    return id;
}

void TileLoader::request(std::vector<TileRequest> wanted, int client) {
    {
        std::lock_guard lock(m_mutex);
        Client& c = m_clients[client];
        c.wanted.clear();
        bool inFlightWanted = false;
        for (auto& r : wanted) {
            if (m_failed.count(r)) continue;
            // The one being read is delivered when done; asking again would read it twice.
            if (m_inFlight && *m_inFlight == r) {
                inFlightWanted = true;
                continue;
            }
            c.wanted.push_back(r);
        }
        if (m_inFlight && m_inFlightClient == client) m_inFlightWanted = inFlightWanted;
    }
    m_wake.notify_one();
}

std::vector<TileResult> TileLoader::takeFinished(int client) {
    std::lock_guard lock(m_mutex);
    auto it = m_clients.find(client);
    if (it == m_clients.end()) return {};
    return std::exchange(it->second.finished, {});
}

size_t TileLoader::pending(int client) const {
    std::lock_guard lock(m_mutex);
    auto it = m_clients.find(client);
    const size_t queued = it == m_clients.end() ? 0 : it->second.wanted.size();
    return queued + (m_inFlight && m_inFlightClient == client ? 1 : 0);
}

std::string TileLoader::openError() const {
    std::lock_guard lock(m_mutex);
    return m_openError;
}

bool TileLoader::stillWanted() const {
    std::lock_guard lock(m_mutex);
    return !m_stop && m_inFlightWanted;
}

void TileLoader::run() {
    lowerThisThreadPriority();
    std::unique_ptr<core::RunReader> reader;
    std::string openError;
    try {
        reader = std::make_unique<core::RunReader>(m_path, m_cacheBytes);
    } catch (const std::exception& e) {
        openError = e.what();
    }
    std::unique_lock lock(m_mutex);
    m_openError = openError;
    for (;;) {
        // Clients take turns so that one canvas's long list does not starve another's.
        Client* client = nullptr;
        int id = -1;
        m_wake.wait(lock, [&] {
            if (m_stop) return true;
            auto start = m_clients.upper_bound(m_turn);
            for (size_t n = 0; n < m_clients.size(); ++n, ++start) {
                if (start == m_clients.end()) start = m_clients.begin();
                if (!start->second.wanted.empty()) {
                    client = &start->second, id = start->first;
                    return true;
                }
            }
            return false;
        });
        if (m_stop) return;
        m_turn = id;
        const TileRequest req = client->wanted.front();
        client->wanted.pop_front();
        m_inFlight = req, m_inFlightClient = id, m_inFlightWanted = true;
        lock.unlock();
        std::optional<TileResult> result;
        if (reader) {
            result = serve(*reader, req);
        } else {
            result.emplace();
            result->request = req;
            result->error = openError;
        }
        lock.lock();
        m_inFlight.reset();
        if (!result) continue;
        if (!result->error.empty()) m_failed.insert(req);
        // Everyone who wants the same tile gets it.
        for (auto& [otherId, other] : m_clients) {
            if (otherId == id) continue;
            auto at = std::find(other.wanted.begin(), other.wanted.end(), req);
            if (at == other.wanted.end()) continue;
            other.wanted.erase(at);
            other.finished.push_back(*result);
        }
        m_clients[id].finished.push_back(std::move(*result));
    }
}

std::optional<TileResult> TileLoader::serve(core::RunReader& reader, const TileRequest& r) {
    TileResult out;
    out.request = r;
    try {
        if (r.kind == TileKind::Cells) {
            out.tile = reader.tile(r.layer, r.head, r.level, r.row0, r.col0, r.size, r.reduce);
            return out;
        }
        // Row maxima over all keys: every tile of the band up to the diagonal (cells right of it are 0).
        const int64_t n = core::pyramidSize(reader.layout().tokens, r.level);
        const int64_t rows = std::clamp<int64_t>(n - r.row0, 0, r.size);
        out.rowMax.assign(size_t(rows), 0.0f);
        for (int64_t c0 = 0; c0 < std::min(n, r.row0 + rows); c0 += r.size) {
            if (c0 > 0 && !stillWanted()) return std::nullopt;
            const core::Tile t = reader.tile(r.layer, r.head, r.level, r.row0, c0, r.size, r.reduce);
            for (int64_t i = 0; i < t.rows && t.cols > 0; ++i) {
                const float* row = t.values.data() + i * t.cols;
                out.rowMax[size_t(i)] = std::max(out.rowMax[size_t(i)], *std::max_element(row, row + t.cols));
            }
        }
        return out;
    } catch (const std::exception& e) {
        // Our typed errors name the file already; anything else gets the file named here.
        const std::string what = e.what();
        out.error = dynamic_cast<const core::Error*>(&e)
                        ? what
                        : "Reading attention tiles from run file '" + m_path.string() + "' failed: " + what;
        return out;
    }
}

} // namespace attnscope::views
