-- A real client for `fluxvet lsp`: Neovim's built-in LSP client (the 0.7 API, which later
-- versions keep), driven headless by tests/it/lsp.rs:
--
--   nvim --headless --clean -n -i NONE -c 'luafile tests/nvim/lsp_diagnostics.lua'
--
-- It opens FLUXVET_FILE, starts `FLUXVET_BIN lsp` rooted at FLUXVET_ROOT, appends FLUXVET_LINE
-- to the buffer without saving, asks for hover on the first finding, removes the line again,
-- stops the server, and writes what the client holds at each step to FLUXVET_OUT as JSON.
-- Every wait polls with a timeout: no step relies on a delay.

local env = vim.env
local out = {}

local function finish(ok, err)
  out.ok = ok
  out.error = err
  local f = assert(io.open(env.FLUXVET_OUT, 'w'))
  f:write(vim.json.encode(out))
  f:close()
  vim.cmd(ok and 'qall!' or 'cquit!')
end

-- The buffer's diagnostics as Neovim shows them: 0-based lines, byte columns.
local function snapshot(bufnr)
  local list = {}
  for _, d in ipairs(vim.diagnostic.get(bufnr)) do
    table.insert(list, {
      lnum = d.lnum,
      col = d.col,
      end_lnum = d.end_lnum,
      end_col = d.end_col,
      severity = d.severity,
      code = d.code,
      source = d.source,
      message = d.message,
    })
  end
  table.sort(list, function(a, b)
    return a.lnum < b.lnum or (a.lnum == b.lnum and a.col < b.col)
  end)
  return list
end

local ok, err = pcall(function()
  vim.cmd('edit ' .. vim.fn.fnameescape(env.FLUXVET_FILE))
  local bufnr = vim.api.nvim_get_current_buf()
  local published = 0
  local last = nil
  local client_id = vim.lsp.start_client({
    name = 'fluxvet',
    cmd = { env.FLUXVET_BIN, 'lsp' },
    root_dir = env.FLUXVET_ROOT,
    handlers = {
      ['textDocument/publishDiagnostics'] = function(e, result, ctx, config)
        published = published + 1
        last = result
        vim.lsp.diagnostic.on_publish_diagnostics(e, result, ctx, config)
      end,
    },
    on_exit = function(code, _)
      out.exit_code = code
    end,
  })
  assert(client_id, 'vim.lsp.start_client failed')
  assert(vim.lsp.buf_attach_client(bufnr, client_id), 'buf_attach_client failed')

  assert(vim.wait(20000, function() return published > 0 end, 10), 'no diagnostics after opening')
  out.opened = snapshot(bufnr)

  -- An unsaved edit: Neovim sends it as an incremental change.
  vim.api.nvim_buf_set_lines(bufnr, -1, -1, false, { env.FLUXVET_LINE })
  assert(
    vim.wait(20000, function() return #vim.diagnostic.get(bufnr) > 0 end, 10),
    'no diagnostics after the edit'
  )
  out.edited = snapshot(bufnr)

  -- Hover where the first finding starts (the server's own position, UTF-16).
  local first = last.diagnostics[1]
  local params = {
    textDocument = vim.lsp.util.make_text_document_params(bufnr),
    position = first.range.start,
  }
  local responses = vim.lsp.buf_request_sync(bufnr, 'textDocument/hover', params, 10000)
  local response = responses and responses[client_id]
  out.hover = response and response.result and response.result.contents.value

  -- The line removed again: the findings clear.
  vim.api.nvim_buf_set_lines(bufnr, -2, -1, false, {})
  assert(
    vim.wait(20000, function() return #vim.diagnostic.get(bufnr) == 0 end, 10),
    'the findings stay after the edit was undone'
  )
  out.fixed = snapshot(bufnr)

  -- stop_client sends shutdown, then exit.
  vim.lsp.stop_client(client_id)
  assert(vim.wait(10000, function() return out.exit_code ~= nil end, 10), 'the server did not exit')
end)

finish(ok, err and tostring(err))
