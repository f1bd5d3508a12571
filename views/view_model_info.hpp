#pragma once
// Shows a model's identity and shape (the same fields as `attnscope-cli info`). UI thread only.
#include "model/model_config.hpp"
#include "view_base.hpp"

#include <string>
#include <vector>

namespace attnscope::views {

class ViewModelInfo : public ViewBase {
public:
    ViewModelInfo() : ViewBase("Model") {}
    // rows: label and value pairs, shown as a two-column table.
    void setRows(std::vector<std::pair<std::string, std::string>> rows) { m_rows = std::move(rows); }

protected:
    void drawContent() override;

private:
    std::vector<std::pair<std::string, std::string>> m_rows;
};

} // namespace attnscope::views
