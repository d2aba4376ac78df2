# Expected values of infer/index_test.go and infer/layout_test.go, computed
# with PyTorch (run with Debian's /usr/bin/python3). Inputs are iota tensors
# (0, 1, 2, ... in row-major order) unless given explicitly.
import torch

def iota(*shape, dtype=torch.float32):
    n = 1
    for d in shape:
        n *= d
    return torch.arange(n, dtype=dtype).reshape(shape)

def show(name, t):
    print(name, list(t.shape), [v for v in t.flatten().tolist()])

show("einsum ij,jk->ik", torch.einsum("ij,jk->ik", iota(2, 3), iota(3, 4)))
show("einsum ...ij,...jk (implicit)", torch.einsum("...ij,...jk", iota(2, 1, 2, 3), iota(3, 3, 2)))
show("einsum ii->i", torch.einsum("ii->i", iota(3, 3)))
show("einsum ii (trace)", torch.einsum("ii", iota(3, 3)))
show("einsum bij,bjk->bik int64", torch.einsum("bij,bjk->bik", iota(2, 2, 3, dtype=torch.int64), iota(2, 3, 2, dtype=torch.int64)))
show("einsum i,j->ij f64", torch.einsum("i,j->ij", iota(2, dtype=torch.float64), iota(3, dtype=torch.float64) + 1))
show("einsum iij,jk->ik", torch.einsum("iij,jk->ik", iota(2, 2, 3), iota(3, 2)))
show("einsum ba,cb (implicit ac)", torch.einsum("ba,cb", iota(2, 3), iota(4, 2)))
show("einsum ijk->", torch.einsum("ijk->", iota(2, 3, 4)))
show("einsum i...,...->... int32", torch.einsum("i...,...->...", iota(2, 3, dtype=torch.int32), iota(3, dtype=torch.int32)))

x = torch.tensor([3., 1., 3., 2., 1., 3.])
v, i = torch.sort(x, stable=True, descending=True)
show("topk largest k=3 values", v[:3]); show("topk largest k=3 indices", i[:3])
v, i = torch.sort(x, stable=True, descending=False)
show("topk smallest k=2 values", v[:2]); show("topk smallest k=2 indices", i[:2])
v, i = torch.sort(iota(2, 3, 2), dim=1, stable=True, descending=True)
show("topk axis 1 k=2 values", v[:, :2]); show("topk axis 1 k=2 indices", i[:, :2])

show("split num_outputs=3 of 7", torch.tensor([c.shape[0] for c in torch.chunk(iota(7, 2), 3)]))

y = torch.tensor([[1., 5., 5.], [2., 2., 0.]])
show("argmax axis 1 first", torch.argmax(y, dim=1, keepdim=True))
show("argmax axis 1 last", 2 - torch.argmax(torch.flip(y, [1]), dim=1, keepdim=True))
show("argmin axis 0 no keepdims", torch.argmin(y, dim=0))

data = iota(3, 3)
idx = torch.tensor([[1, 0, 2], [0, 2, 1]])  # the test writes [[1,-3,2],[0,-1,1]]
upd = torch.tensor([[10., 20., 30.], [40., 50., 60.]])
show("scatter_elements axis 0 add", data.scatter_reduce(0, idx, upd, reduce="sum", include_self=True))
idx2 = torch.tensor([[1, 1], [0, 0], [2, 2]])
upd2 = torch.tensor([[4., 9.], [-1., 1.], [7., 7.]])
show("scatter_elements axis 1 max dup", data.scatter_reduce(1, idx2, upd2, reduce="amax", include_self=True))
show("scatter_elements axis 1 mul dup", data.scatter_reduce(1, idx2, upd2, reduce="prod", include_self=True))
show("gather_elements axis 1", torch.gather(data, 1, idx2))

d = iota(2, 3)
ind = torch.tensor([[1], [0], [1]])  # the test writes [[1],[-2],[1]]
u = torch.tensor([[1., 1., 1.], [2., 2., 2.], [3., 3., 3.]])
out = d.clone(); out.index_put_((ind[:, 0],), u, accumulate=True)
show("scatter_nd add dup rows", out)
g = iota(2, 3, 4)
bi = torch.tensor([[[2, 1]], [[0, -1]]])
show("gather_nd batch_dims=1", torch.stack([g[b][bi[b, 0, 0], bi[b, 0, 1]] for b in range(2)]).reshape(2, 1))
show("depth_to_space CRD (pixel_shuffle)", torch.nn.functional.pixel_shuffle(iota(1, 8, 1, 2), 2))
show("space_to_depth (pixel_unshuffle then DCR order)", iota(1, 2, 4, 4).reshape(1, 2, 2, 2, 2, 2).permute(0, 3, 5, 1, 2, 4).reshape(1, 8, 2, 2))
show("tril k=-1", torch.tril(iota(3, 4), -1))
show("triu k=1 int64", torch.triu(iota(2, 3, 3, dtype=torch.int64), 1))
show("tile [2,1,3] of 1x2x1", iota(1, 2, 1).repeat(2, 1, 3))
show("nonzero", torch.nonzero(torch.tensor([[0, 1, 0], [2, 0, 3]])).T)

# Unique and TensorScatter (infer/select_test.go).
u = torch.tensor([[2, 1], [0, 1], [2, 1], [0, 0]])
y, inv, cnt = torch.unique(u, sorted=True, return_inverse=True, return_counts=True, dim=0)
show("unique dim 0 Y", y); show("unique dim 0 inverse", inv); show("unique dim 0 counts", cnt)
y, inv, cnt = torch.unique(torch.tensor([3., -1., 3., 0.5]), sorted=True, return_inverse=True, return_counts=True)
show("unique flat Y", y); show("unique flat inverse", inv); show("unique flat counts", cnt)
cache = iota(2, 3, 2)
upd = -1 - iota(2, 2, 2)
w = [2, 0]
for b in range(2):
    for s in range(2):
        cache[b, (w[b] + s) % 3] = upd[b, s]
show("tensorscatter circular axis 1", cache)

nan = float("nan")
xn = torch.tensor([1, nan, 3, 2, nan])
show("topk nan largest", torch.topk(xn, 3).values); show("topk nan largest indices", torch.topk(xn, 3).indices)
show("topk nan smallest", torch.topk(xn, 3, largest=False).values); show("topk nan smallest indices", torch.topk(xn, 3, largest=False).indices)
show("argmax nan", torch.argmax(xn)); show("argmin nan", torch.argmin(xn))
show("einsum ji,kj->ik (both transposed)", torch.einsum("ji,kj->ik", iota(3, 2), iota(4, 3)))
