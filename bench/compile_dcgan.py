"""torch.compile (inductor) against eager for one DCGAN training step on the CPU (issue 22, item 1).

Radford's DCGAN at 64x64, 1 channel, batch 64, non-saturating loss, Adam, fp32, 1 torch thread: the compile time
(first two steps), then 4-step blocks of eager and compiled alternating, three times, in one process.

    python bench/compile_dcgan.py
"""
import time, torch, torch.nn.functional as F
from medgan_nb.core import machine_line
from medgan_nb.models.dcgan import dcgan
torch.set_num_threads(1)
print(machine_line(), flush=True)
torch.manual_seed(0)
G,D=dcgan('radford', size=64, channels=1)
Gc,Dc=torch.compile(G),torch.compile(D)
x=torch.rand(64,1,64,64)*2-1
og=torch.optim.Adam(G.parameters(),2e-4,betas=(0.5,0.999)); od=torch.optim.Adam(D.parameters(),2e-4,betas=(0.5,0.999))
def step(g,d):
    z=torch.randn(64,G.cfg.nz)
    fake=g(z)
    ld=F.softplus(-d(x)).mean()+F.softplus(d(fake.detach())).mean()
    od.zero_grad(); ld.backward(); od.step()
    lg=F.softplus(-d(fake)).mean()
    og.zero_grad(); lg.backward(); og.step()
t=time.perf_counter(); step(Gc,Dc); step(Gc,Dc); print('compile+2 steps', round(time.perf_counter()-t,1), flush=True)
for r in range(3):
    for name,(g,d) in (('eager',(G,D)),('compiled',(Gc,Dc))):
        step(g,d); t=time.perf_counter()
        for _ in range(4): step(g,d)
        print(name, round((time.perf_counter()-t)/4,3),'s/step', flush=True)
