// Build-time generator: reads the category list and WordNet 3.0's data.noun and writes C++
// tables: every noun synset under some category with the set of its categories, and the
// hypernym edges and words that let a label be found by the names of its ancestors.
// Running it at build time keeps WordNet out of the runtime dependencies.
#include <algorithm>
#include <cctype>
#include <cstdint>
#include <cstdio>
#include <fstream>
#include <iostream>
#include <map>
#include <sstream>
#include <string>
#include <vector>

namespace {

struct Category {
  std::string name;
  std::vector<std::uint32_t> roots;
};

bool ReadCategories(const char* path, std::vector<Category>& categories) {
  std::ifstream in(path);
  if (!in) return false;
  std::string line;
  while (std::getline(in, line)) {
    if (line.empty() || line[0] == '#') continue;
    std::istringstream fields(line);
    Category category;
    fields >> category.name;
    std::uint32_t offset = 0;
    while (fields >> offset) category.roots.push_back(offset);
    if (category.name.empty() || category.roots.empty()) return false;
    categories.push_back(std::move(category));
  }
  return !categories.empty() && categories.size() <= 32;
}

struct Synset {
  std::vector<std::string> words;        // lower-case, spaces for underscores
  std::vector<std::uint32_t> hypernyms;  // @ and @i
  std::vector<std::uint32_t> hyponyms;   // ~ and ~i
};

std::string Lemma(std::string word) {
  // Adjective markers such as "(a)" follow some nouns' words in data.noun.
  if (const auto paren = word.find('('); paren != std::string::npos) word.erase(paren);
  for (char& c : word) {
    c = c == '_' ? ' ' : static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
  }
  return word;
}

// Every noun synset of data.noun with its words and its hypernym and hyponym edges.
bool ReadNouns(const char* path, std::map<std::uint32_t, Synset>& nouns) {
  std::ifstream in(path);
  if (!in) return false;
  std::string line;
  while (std::getline(in, line)) {
    if (line.empty() || line[0] == ' ') continue;  // license header lines start with spaces
    std::istringstream fields(line);
    std::string offset, lex_filenum, ss_type, word_count_hex;
    fields >> offset >> lex_filenum >> ss_type >> word_count_hex;
    const int word_count = std::stoi(word_count_hex, nullptr, 16);
    Synset& synset = nouns[static_cast<std::uint32_t>(std::stoul(offset))];
    std::string word, lex_id;
    for (int i = 0; i < word_count; ++i) {
      fields >> word >> lex_id;
      synset.words.push_back(Lemma(word));
    }
    int pointer_count = 0;
    fields >> pointer_count;
    for (int i = 0; i < pointer_count; ++i) {
      std::string symbol, target, pos, source_target;
      fields >> symbol >> target >> pos >> source_target;
      if (pos != "n") continue;
      const auto target_offset = static_cast<std::uint32_t>(std::stoul(target));
      if (symbol == "~" || symbol == "~i") synset.hyponyms.push_back(target_offset);
      if (symbol == "@" || symbol == "@i") synset.hypernyms.push_back(target_offset);
    }
  }
  return !nouns.empty();
}

// Steps from the root ("entity") down to each synset along its shortest hypernym path.
std::map<std::uint32_t, int> Depths(const std::map<std::uint32_t, Synset>& nouns) {
  std::map<std::uint32_t, int> depth;
  std::vector<std::uint32_t> level;
  for (const auto& [offset, synset] : nouns) {
    if (synset.hypernyms.empty()) level.push_back(offset);
  }
  for (int d = 0; !level.empty(); ++d) {
    std::vector<std::uint32_t> next;
    for (std::uint32_t offset : level) {
      if (!depth.emplace(offset, d).second) continue;
      const Synset& synset = nouns.at(offset);
      next.insert(next.end(), synset.hyponyms.begin(), synset.hyponyms.end());
    }
    level = std::move(next);
  }
  return depth;
}

// The words as one C++ string literal's contents, separated by '|'.
std::string JoinedLiteral(const std::vector<std::string>& words) {
  std::string joined;
  for (const std::string& word : words) {
    if (!joined.empty()) joined += '|';
    for (char c : word) {
      if (c == '"' || c == '\\') joined += '\\';
      joined += c;
    }
  }
  return joined;
}

}  // namespace

int main(int argc, char** argv) {
  if (argc != 4) {
    std::cerr << "usage: taxonomy_gen CATEGORIES DATA_NOUN OUTPUT\n";
    return 2;
  }
  std::vector<Category> categories;
  if (!ReadCategories(argv[1], categories)) {
    std::cerr << "taxonomy_gen: cannot read categories from " << argv[1] << "\n";
    return 1;
  }
  std::map<std::uint32_t, Synset> nouns;
  if (!ReadNouns(argv[2], nouns)) {
    std::cerr << "taxonomy_gen: cannot read WordNet nouns from " << argv[2]
              << " (install Debian's wordnet-base)\n";
    return 1;
  }

  std::map<std::uint32_t, std::uint32_t> masks;
  for (std::size_t bit = 0; bit < categories.size(); ++bit) {
    std::vector<std::uint32_t> pending = categories[bit].roots;
    while (!pending.empty()) {
      const std::uint32_t synset = pending.back();
      pending.pop_back();
      std::uint32_t& mask = masks[synset];
      if (mask & (1u << bit)) continue;
      mask |= 1u << bit;
      if (auto it = nouns.find(synset); it != nouns.end()) {
        pending.insert(pending.end(), it->second.hyponyms.begin(), it->second.hyponyms.end());
      }
    }
    for (std::uint32_t root : categories[bit].roots) {
      if (!nouns.contains(root)) {
        std::cerr << "taxonomy_gen: " << categories[bit].name << ": no noun synset " << root
                  << "\n";
        return 1;
      }
    }
  }

  std::ofstream out(argv[3]);
  out << "// Generated by taxonomy_gen from WordNet 3.0 and src/engine/categories.txt.\n";
  out << "inline constexpr std::string_view kCategoryNames[] = {\n";
  for (const auto& category : categories) out << "    \"" << category.name << "\",\n";
  out << "};\n";
  out << "inline constexpr SynsetCategories kSynsetCategories[] = {\n";
  for (const auto& [synset, mask] : masks) {
    out << "    {" << synset << "u, 0x" << std::hex << mask << std::dec << "u},\n";
  }
  out << "};\n";

  // For search: every synset's hypernym edges, and the words of the synsets that are some
  // synset's hypernym, except the few most general ones (entity, object, whole, matter...),
  // which would match nearly everything.
  constexpr int kMostGeneralDepth = 3;
  const std::map<std::uint32_t, int> depth = Depths(nouns);
  out << "inline constexpr HypernymEdge kHypernymEdges[] = {\n";
  std::map<std::uint32_t, const Synset*> hypernyms_with_words;
  for (const auto& [offset, synset] : nouns) {
    for (std::uint32_t hypernym : synset.hypernyms) {
      out << "    {" << offset << "u, " << hypernym << "u},\n";
      if (depth.contains(hypernym) && depth.at(hypernym) > kMostGeneralDepth) {
        hypernyms_with_words.emplace(hypernym, &nouns.at(hypernym));
      }
    }
  }
  out << "};\n";
  std::vector<std::uint32_t> roots;
  for (const auto& category : categories) {
    roots.insert(roots.end(), category.roots.begin(), category.roots.end());
  }
  std::ranges::sort(roots);
  out << "inline constexpr std::uint32_t kCategoryRoots[] = {\n";
  for (std::uint32_t root : roots) out << "    " << root << "u,\n";
  out << "};\n";
  out << "inline constexpr SynsetWords kHypernymWords[] = {\n";
  for (const auto& [offset, synset] : hypernyms_with_words) {
    out << "    {" << offset << "u, \"" << JoinedLiteral(synset->words) << "\"},\n";
  }
  out << "};\n";
  return out ? 0 : 1;
}
