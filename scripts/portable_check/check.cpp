// Load a GGUF with the portable libllama, print the build's CPU features, prefill a prompt and
// generate a few tokens: the path that segfaulted on AMX CPUs with a native build.
#include "llama.h"
#include <cstdio>
#include <cstring>
#include <string>
#include <vector>
int main(int argc, char ** argv) {
    if (argc < 2) { fprintf(stderr, "usage: %s MODEL [THREADS]\n", argv[0]); return 2; }
    int threads = argc > 2 ? atoi(argv[2]) : 4;
    ggml_backend_load_all();
    printf("system_info: %s\n", llama_print_system_info());
    llama_model_params mp = llama_model_default_params();
    llama_model * model = llama_model_load_from_file(argv[1], mp);
    if (!model) { fprintf(stderr, "load failed\n"); return 1; }
    const llama_vocab * vocab = llama_model_get_vocab(model);
    std::string prompt = "<|im_start|>user\nWrite one sentence about a coffee shop that roasts its own beans. "
                         "Mention the tasting flight box and the neighbourhood.<|im_end|>\n<|im_start|>assistant\n";
    int n = -llama_tokenize(vocab, prompt.c_str(), prompt.size(), NULL, 0, true, true);
    std::vector<llama_token> toks(n);
    llama_tokenize(vocab, prompt.c_str(), prompt.size(), toks.data(), n, true, true);
    llama_context_params cp = llama_context_default_params();
    cp.n_ctx = 512; cp.n_batch = 512; cp.n_threads = threads; cp.n_threads_batch = threads;
    llama_context * ctx = llama_init_from_model(model, cp);
    auto sp = llama_sampler_chain_default_params();
    llama_sampler * smpl = llama_sampler_chain_init(sp);
    llama_sampler_chain_add(smpl, llama_sampler_init_greedy());
    llama_batch batch = llama_batch_get_one(toks.data(), toks.size());
    std::string out; int generated = 0;
    const int64_t t0 = ggml_time_us();
    for (int i = 0; i < 32; i++) {
        if (llama_decode(ctx, batch)) { fprintf(stderr, "decode failed\n"); return 1; }
        llama_token id = llama_sampler_sample(smpl, ctx, -1);
        if (llama_vocab_is_eog(vocab, id)) break;
        char buf[128]; int k = llama_token_to_piece(vocab, id, buf, sizeof buf, 0, true);
        if (k > 0) out.append(buf, k);
        generated++;
        batch = llama_batch_get_one(&id, 1);
    }
    const double s = (ggml_time_us() - t0) / 1e6;
    printf("prompt tokens: %d, generated: %d in %.2f s\n", n, generated, s);
    printf("text: %s\n", out.c_str());
    printf("OK\n");
    llama_sampler_free(smpl); llama_free(ctx); llama_model_free(model);
    return 0;
}
