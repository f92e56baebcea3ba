//===- DialectHelpersTest.cpp - shape helpers of the kiln dialect ---------===//

#include "kiln/Dialect/Kiln/IR/KilnOps.h"

#include "mlir/IR/Builders.h"
#include "mlir/IR/MLIRContext.h"
#include "gtest/gtest.h"

using namespace mlir;
using namespace kiln;

namespace {
constexpr int64_t kDyn = ShapedType::kDynamic;

TEST(BroadcastShapes, AlignsFromTheRight) {
  SmallVector<int64_t> a = {2, 1, 4}, b = {3, 1};
  auto result = broadcastShapes({a, b});
  ASSERT_TRUE(succeeded(result));
  EXPECT_EQ(*result, (SmallVector<int64_t>{2, 3, 4}));
}

TEST(BroadcastShapes, DynamicDimsTakeTheKnownExtent) {
  SmallVector<int64_t> a = {kDyn, 4}, b = {8, 1}, c = {kDyn, kDyn};
  auto result = broadcastShapes({a, b, c});
  ASSERT_TRUE(succeeded(result));
  EXPECT_EQ(*result, (SmallVector<int64_t>{8, 4}));
}

TEST(BroadcastShapes, RejectsMismatchedExtents) {
  SmallVector<int64_t> a = {2, 3}, b = {4, 3};
  EXPECT_TRUE(failed(broadcastShapes({a, b})));
}

TEST(NormalizeAxis, CountsNegativeAxesFromTheEnd) {
  EXPECT_EQ(*normalizeAxis(-1, 4), 3);
  EXPECT_EQ(*normalizeAxis(2, 4), 2);
  EXPECT_TRUE(failed(normalizeAxis(4, 4)));
  EXPECT_TRUE(failed(normalizeAxis(-5, 4)));
}

TEST(CompatibleResultTypes, DynamicDimsMatchAnything) {
  MLIRContext context;
  Builder b(&context);
  Type f32 = b.getF32Type();
  Type staticType = RankedTensorType::get({2, 3}, f32);
  Type dynamicType = RankedTensorType::get({kDyn, 3}, f32);
  Type otherType = RankedTensorType::get({2, 4}, f32);
  Type otherElement = RankedTensorType::get({2, 3}, b.getF16Type());
  EXPECT_TRUE(areCompatibleResultTypes(staticType, dynamicType));
  EXPECT_FALSE(areCompatibleResultTypes(staticType, otherType));
  EXPECT_FALSE(areCompatibleResultTypes(staticType, otherElement));
  EXPECT_FALSE(areCompatibleResultTypes(staticType,
                                        RankedTensorType::get({2, 3, 1}, f32)));
}
} // namespace
