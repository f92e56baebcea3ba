//===- ImporterTest.cpp - importer registry and option parsing ------------===//

#include "kiln/Frontend/ONNX/Importer.h"
#include "Frontend/ONNX/NodeImporter.h"

#include "gtest/gtest.h"

using namespace kiln;
using namespace kiln::onnx_import;

namespace {

TEST(OpRegistry, PicksTheNewestHandlerNotAfterTheOpset) {
  OpRegistry registry;
  int called = 0;
  registry.add("Foo", 7, [&](NodeImporter &) {
    called = 7;
    return llvm::success();
  });
  registry.add("Foo", 13, [&](NodeImporter &) {
    called = 13;
    return llvm::success();
  });
  int oldest = 0;
  EXPECT_EQ(registry.lookup("", "Foo", 6, &oldest), nullptr);
  EXPECT_EQ(oldest, 7);
  const OpHandler *handler = registry.lookup("ai.onnx", "Foo", 12);
  ASSERT_NE(handler, nullptr);
  onnx::NodeProto node;
  mlir::MLIRContext context;
  mlir::OpBuilder builder(&context);
  NodeImporter importer(node, builder, builder.getUnknownLoc(), 12, {});
  ASSERT_TRUE(llvm::succeeded((*handler)(importer)));
  EXPECT_EQ(called, 7);
  ASSERT_TRUE(llvm::succeeded((*registry.lookup("", "Foo", 21))(importer)));
  EXPECT_EQ(called, 13);
  EXPECT_EQ(registry.lookup("com.example", "Foo", 21), nullptr);
}

TEST(OpRegistry, KnowsTheDocumentedOps) {
  const OpRegistry &registry = OpRegistry::get();
  for (const char *op : {"Conv", "MatMul", "LayerNormalization", "Softmax",
                         "ReduceMean", "Resize", "Gelu"})
    EXPECT_NE(registry.lookup("", op, 21), nullptr) << op;
  EXPECT_EQ(registry.lookup("", "Gelu", 17), nullptr);
  EXPECT_EQ(registry.lookup("", "StringNormalizer", 21), nullptr);
}

TEST(ParseInputShape, ReadsStaticAndDynamicDims) {
  ONNXImportOptions options;
  std::string message;
  ASSERT_TRUE(
      llvm::succeeded(parseInputShape("input_ids:1x?x128", options, message)));
  ASSERT_TRUE(options.inputShapes.count("input_ids"));
  EXPECT_EQ(options.inputShapes["input_ids"],
            (llvm::SmallVector<int64_t>{1, mlir::ShapedType::kDynamic, 128}));
  ASSERT_TRUE(llvm::succeeded(parseInputShape("a:b:", options, message)));
  EXPECT_TRUE(options.inputShapes["a:b"].empty());
}

TEST(ParseInputShape, RejectsMalformedSpecs) {
  ONNXImportOptions options;
  std::string message;
  EXPECT_TRUE(llvm::failed(parseInputShape("noshape", options, message)));
  EXPECT_NE(message.find("NAME:DIMxDIM"), std::string::npos);
  EXPECT_TRUE(llvm::failed(parseInputShape("x:2xfoo", options, message)));
  EXPECT_NE(message.find("foo"), std::string::npos);
  EXPECT_TRUE(llvm::failed(parseInputShape("x:-1", options, message)));
}
} // namespace
