#pragma once
// Serves attention tiles of one run file from its own I/O thread (which owns its own core::RunReader). Clients (one
// per canvas) state each frame exactly what they want, most important first; what they no longer want is dropped.
// Results are taken without waiting. Thread: request/takeFinished from the UI thread; reads never hold the lock.
#include "store/run_reader.hpp"

#include <condition_variable>
#include <cstdint>
#include <deque>
#include <filesystem>
#include <map>
#include <mutex>
#include <optional>
#include <set>
#include <string>
#include <thread>
#include <vector>

namespace attnscope::views {

// Cells: the tile's values. RowMax: for the band of `size` rows from row0 at `level`, each row's largest cell over
// ALL keys of that level (col0 ignored), for the per-row-normalised scale.
enum class TileKind { Cells, RowMax };

struct TileRequest {
    int64_t layer = 0, head = 0;
    int level = 0;
    int64_t row0 = 0, col0 = 0; // cells of that level
    int64_t size = 256;
    core::TileReduce reduce = core::TileReduce::Mean;
    TileKind kind = TileKind::Cells;
    auto operator<=>(const TileRequest&) const = default;
};

struct TileResult {
    TileRequest request;
    core::Tile tile;             // Cells: the values (rows x cols, clipped at the map's edge)
    std::vector<float> rowMax;   // RowMax: one per row of the band
    std::string error;           // non-empty: one sentence naming the file; the request is not retried
};

class TileLoader {
public:
    // Opens the run on the loader's thread; an open failure makes every request fail with that message.
    explicit TileLoader(std::filesystem::path path, size_t cacheBytes = 256ull << 20);
    // Stops after the read in progress (a RowMax band stops between its tiles) and joins.
    ~TileLoader();
    TileLoader(const TileLoader&) = delete;
    TileLoader& operator=(const TileLoader&) = delete;

    const std::filesystem::path& path() const { return m_path; }
    // A new client id; each client's wishes and results are its own.
    int addClient();
    // Replaces the client's pending requests (most important first); requests that already failed are dropped.
    void request(std::vector<TileRequest> wanted, int client = 0);
    // Finished results of the client since the last call; never waits.
    std::vector<TileResult> takeFinished(int client = 0);
    // Requests of the client not yet finished (pending plus the one being read for it).
    size_t pending(int client = 0) const;
    // The open error, once the thread tried; empty while opening or when the run is open.
    std::string openError() const;

private:
    struct Client {
        std::deque<TileRequest> wanted;
        std::vector<TileResult> finished;
    };
    void run();
    std::optional<TileResult> serve(core::RunReader& reader, const TileRequest& r); // nullopt: abandoned
    bool stillWanted() const; // takes the lock: the request in flight is wanted by someone and we are not stopping

    std::filesystem::path m_path;
    size_t m_cacheBytes;
    mutable std::mutex m_mutex;
    std::condition_variable m_wake;
    std::map<int, Client> m_clients;
    std::set<TileRequest> m_failed;
    std::optional<TileRequest> m_inFlight;
    bool m_inFlightWanted = false;
    int m_inFlightClient = -1, m_nextClient = 1, m_turn = 0;
    std::string m_openError;
    bool m_stop = false;
    std::thread m_thread; // last: started after every member it uses exists
};

} // namespace attnscope::views
