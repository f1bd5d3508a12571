#include "gl_objects.hpp"

#include "errors.hpp"

#include <algorithm>
#include <vector>

namespace attnscope::views {

namespace gl_detail {
void deleteTexture(GLuint id) {
    glDeleteTextures(1, &id);
}
void deleteProgram(GLuint id) {
    glDeleteProgram(id);
}
void deleteVertexArray(GLuint id) {
    glDeleteVertexArrays(1, &id);
}
void deleteBuffer(GLuint id) {
    glDeleteBuffers(1, &id);
}
} // namespace gl_detail

namespace {

GLuint genTexture() {
    GLuint id = 0;
    glGenTextures(1, &id);
    return id;
}

// The driver's log up to its first line break, without a trailing full stop (we add ours).
std::string firstLine(std::string log) {
    const auto end = log.find_first_of("\r\n");
    if (end != std::string::npos) log.resize(end);
    while (!log.empty() && (log.back() == '.' || log.back() == ' ' || log.back() == '\0'))
        log.pop_back();
    return log.empty() ? "no log" : log;
}

GLuint compile(const std::string& name, GLenum stage, const char* source) {
    const GLuint shader = glCreateShader(stage);
    glShaderSource(shader, 1, &source, nullptr);
    glCompileShader(shader);
    GLint ok = 0;
    glGetShaderiv(shader, GL_COMPILE_STATUS, &ok);
    if (!ok) {
        GLint length = 0;
        glGetShaderiv(shader, GL_INFO_LOG_LENGTH, &length);
        std::string log(size_t(std::max(length, 1)), '\0');
        glGetShaderInfoLog(shader, length, nullptr, log.data());
        glDeleteShader(shader);
        throw core::UnsupportedError("The OpenGL driver could not compile the " + name +
                                     (stage == GL_VERTEX_SHADER ? " vertex" : " fragment") +
                                     " shader: " + firstLine(log) + ".");
    }
    return shader;
}

} // namespace

GlTexture::GlTexture(int width, int height, GLenum internalFormat, GLenum format, GLenum type, const void* data,
                     GLenum filter, size_t bytesPerTexel)
    : m_tex(genTexture()), m_width(width), m_height(height), m_bytes(size_t(width) * size_t(height) * bytesPerTexel) {
    glBindTexture(GL_TEXTURE_2D, m_tex.id());
    glTexParameteri(GL_TEXTURE_2D, GL_TEXTURE_MIN_FILTER, GLint(filter));
    glTexParameteri(GL_TEXTURE_2D, GL_TEXTURE_MAG_FILTER, GLint(filter));
    glTexParameteri(GL_TEXTURE_2D, GL_TEXTURE_WRAP_S, GL_CLAMP_TO_EDGE);
    glTexParameteri(GL_TEXTURE_2D, GL_TEXTURE_WRAP_T, GL_CLAMP_TO_EDGE);
    // Rows of R32F tiles of odd widths are not 4-byte multiples in every format we upload.
    glPixelStorei(GL_UNPACK_ALIGNMENT, 1);
    glPixelStorei(GL_UNPACK_ROW_LENGTH, 0);
    glTexImage2D(GL_TEXTURE_2D, 0, GLint(internalFormat), width, height, 0, format, type, data);
}

void GlTexture::bind(int unit) const {
    glActiveTexture(GLenum(GL_TEXTURE0 + unit));
    glBindTexture(GL_TEXTURE_2D, m_tex.id());
}

void GlTexture::upload(int width, int height, GLenum format, GLenum type, const void* data) {
    glBindTexture(GL_TEXTURE_2D, m_tex.id());
    glPixelStorei(GL_UNPACK_ALIGNMENT, 1);
    glTexSubImage2D(GL_TEXTURE_2D, 0, 0, 0, width, height, format, type, data);
}

GlProgram::GlProgram(const std::string& name, const char* vertexSource, const char* fragmentSource) {
    const GLuint vs = compile(name, GL_VERTEX_SHADER, vertexSource);
    GLuint fs = 0;
    try {
        fs = compile(name, GL_FRAGMENT_SHADER, fragmentSource);
    } catch (...) {
        glDeleteShader(vs);
        throw;
    }
    m_program.reset(glCreateProgram());
    glAttachShader(m_program.id(), vs);
    glAttachShader(m_program.id(), fs);
    glLinkProgram(m_program.id());
    // The program keeps the compiled stages alive as long as it needs them.
    glDeleteShader(vs);
    glDeleteShader(fs);
    GLint ok = 0;
    glGetProgramiv(m_program.id(), GL_LINK_STATUS, &ok);
    if (!ok) {
        GLint length = 0;
        glGetProgramiv(m_program.id(), GL_INFO_LOG_LENGTH, &length);
        std::string log(size_t(std::max(length, 1)), '\0');
        glGetProgramInfoLog(m_program.id(), length, nullptr, log.data());
        throw core::UnsupportedError("The OpenGL driver could not link the " + name + " shader program: " +
                                     firstLine(log) + ".");
    }
}

void GlProgram::use() const {
    glUseProgram(m_program.id());
}

GLint GlProgram::uniform(const char* name) const {
    return glGetUniformLocation(m_program.id(), name);
}

GlVertexArray::GlVertexArray() {
    GLuint id = 0;
    glGenVertexArrays(1, &id);
    m_vao.reset(id);
}

void GlVertexArray::bind() const {
    glBindVertexArray(m_vao.id());
}

GlBuffer::GlBuffer() {
    GLuint id = 0;
    glGenBuffers(1, &id);
    m_buffer.reset(id);
}

void GlBuffer::upload(GLenum target, const void* data, size_t bytes, GLenum usage) {
    glBindBuffer(target, m_buffer.id());
    glBufferData(target, GLsizeiptr(bytes), data, usage);
}

} // namespace attnscope::views
