#pragma once
// RAII owners of OpenGL 3.3 core objects (texture, shader program, vertex array, buffer): move-only,
// deleted with the object. Need a current context on the creating thread (the UI thread) for their whole life.
#define GL_GLEXT_PROTOTYPES
#include <GL/gl.h>
#include <GL/glext.h>

#include <cstddef>
#include <string>

namespace attnscope::views {

// One GL name and the function that deletes it; 0 is "none".
template <void (*Delete)(GLuint)> class GlHandle {
public:
    GlHandle() = default;
    explicit GlHandle(GLuint id) : m_id(id) {}
    ~GlHandle() { reset(); }
    GlHandle(GlHandle&& o) noexcept : m_id(o.release()) {}
    GlHandle& operator=(GlHandle&& o) noexcept {
        if (this != &o) reset(o.release());
        return *this;
    }
    GlHandle(const GlHandle&) = delete;
    GlHandle& operator=(const GlHandle&) = delete;

    GLuint id() const { return m_id; }
    explicit operator bool() const { return m_id != 0; }
    GLuint release() {
        const GLuint id = m_id;
        m_id = 0;
        return id;
    }
    void reset(GLuint id = 0) {
        if (m_id) Delete(m_id);
        m_id = id;
    }

private:
    GLuint m_id = 0;
};

namespace gl_detail {
void deleteTexture(GLuint id);
void deleteProgram(GLuint id);
void deleteVertexArray(GLuint id);
void deleteBuffer(GLuint id);
} // namespace gl_detail

// A 2D texture with its size and an estimate of its GPU bytes (for budgets).
class GlTexture {
public:
    GlTexture() = default;
    // internalFormat e.g. GL_R32F or GL_RGBA8; data may be null (uninitialised); nearest or linear filtering.
    GlTexture(int width, int height, GLenum internalFormat, GLenum format, GLenum type, const void* data,
              GLenum filter = GL_NEAREST, size_t bytesPerTexel = 4);
    void bind(int unit) const;
    void upload(int width, int height, GLenum format, GLenum type, const void* data); // whole image, same size
    GLuint id() const { return m_tex.id(); }
    int width() const { return m_width; }
    int height() const { return m_height; }
    size_t bytes() const { return m_bytes; }
    explicit operator bool() const { return bool(m_tex); }

private:
    GlHandle<gl_detail::deleteTexture> m_tex;
    int m_width = 0, m_height = 0;
    size_t m_bytes = 0;
};

// A linked vertex + fragment program. Throws core::UnsupportedError with one sentence (the program's name and the
// driver's first log line) when compiling or linking fails.
class GlProgram {
public:
    GlProgram() = default;
    GlProgram(const std::string& name, const char* vertexSource, const char* fragmentSource);
    void use() const;
    GLint uniform(const char* name) const; // -1 when the program has no such active uniform
    GLuint id() const { return m_program.id(); }
    explicit operator bool() const { return bool(m_program); }

private:
    GlHandle<gl_detail::deleteProgram> m_program;
};

class GlVertexArray {
public:
    GlVertexArray();
    void bind() const;
    GLuint id() const { return m_vao.id(); }

private:
    GlHandle<gl_detail::deleteVertexArray> m_vao;
};

class GlBuffer {
public:
    GlBuffer();
    // Binds to target and replaces the contents.
    void upload(GLenum target, const void* data, size_t bytes, GLenum usage = GL_STATIC_DRAW);
    GLuint id() const { return m_buffer.id(); }

private:
    GlHandle<gl_detail::deleteBuffer> m_buffer;
};

} // namespace attnscope::views
